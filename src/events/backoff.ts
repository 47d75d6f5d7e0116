/**
 * When a failed delivery is tried again: the first wait is EVENT_RETRY_SECONDS, doubling per
 * attempt, at most an hour, with up to a tenth of jitter so deliveries that failed together
 * (an endpoint down) do not all return at once. Pure.
 */

const MAX_WAIT_MS = 3_600_000;

/** The wait after failed attempt number `attempts` (1 = the first attempt failed). */
export function retryWaitMs(firstWaitMs: number, attempts: number, random: number): number {
  const base = Math.min(MAX_WAIT_MS, firstWaitMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base + base * 0.1 * random);
}
