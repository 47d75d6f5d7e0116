/**
 * The repository object's table of fetches from a pull-through cache's upstream in flight,
 * so concurrent first pulls of the same manifest or blob make one upstream request: the
 * first caller leads (it fetches and stores), the others wait for it to end and then read
 * what it stored. In memory: if the object is restarted, waiting callers see their call fail
 * and the next caller leads. A leader that stops renewing its lease (its request died) is
 * replaced once the lease runs out, so nobody waits forever.
 */

/** Why an upstream could not give what was asked (src/pull-through/upstream-client.ts). */
export type FailureKind = "not-found" | "rate-limited" | "denied" | "unavailable" | "invalid";

/** How a fetch ended; on failure, the leader's `kind` and `message`, so followers report the same. */
export type FetchOutcome = { status: "done" } | { status: "failed"; kind: FailureKind; message: string };

export type JoinResult = { role: "leader"; lease: string } | { role: "follower"; outcome: FetchOutcome };

/** A leader renews its lease at least this often while it streams. */
export const FETCH_LEASE_MS = 60_000;

interface InFlight {
  lease: string;
  expires: number;
  ended: Promise<FetchOutcome>;
  end(outcome: FetchOutcome): void;
}

export class UpstreamFetches {
  private readonly inFlight = new Map<string, InFlight>();

  constructor(private readonly leaseMs = FETCH_LEASE_MS) {}

  /** Flights held in memory (live ones, and abandoned ones not yet dropped). */
  get size(): number {
    return this.inFlight.size;
  }

  /** Leads the fetch of `key`, or waits for the one in flight to end. */
  async join(key: string): Promise<JoinResult> {
    for (;;) {
      const current = this.inFlight.get(key);
      if (current === undefined || current.expires <= Date.now()) return { role: "leader", lease: this.lead(key) };
      const outcome = await waitFor(current);
      if (outcome !== null) return { role: "follower", outcome };
    }
  }

  renew(key: string, lease: string): boolean {
    const current = this.inFlight.get(key);
    if (current?.lease !== lease) return false;
    current.expires = Date.now() + this.leaseMs;
    return true;
  }

  end(key: string, lease: string, outcome: FetchOutcome): void {
    const current = this.inFlight.get(key);
    if (current?.lease !== lease) return;
    this.inFlight.delete(key);
    current.end(outcome);
  }

  private lead(key: string): string {
    // A leader whose request died never ends its flight: drop such flights once their lease
    // has run out, or a long-lived object would keep every abandoned key.
    const now = Date.now();
    for (const [other, flight] of this.inFlight) if (flight.expires <= now) this.inFlight.delete(other);
    let end: (outcome: FetchOutcome) => void = () => undefined;
    const ended = new Promise<FetchOutcome>((resolve) => {
      end = resolve;
    });
    const lease = crypto.randomUUID();
    this.inFlight.set(key, { lease, expires: Date.now() + this.leaseMs, ended, end });
    return lease;
  }
}

/** The flight's outcome, or null once its lease has run out (renewals push that back). */
async function waitFor(flight: InFlight): Promise<FetchOutcome | null> {
  for (;;) {
    const remaining = flight.expires - Date.now();
    if (remaining <= 0) return null;
    const outcome = await Promise.race([
      flight.ended,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), Math.min(remaining, 5_000))),
    ]);
    if (outcome !== null) return outcome;
  }
}
