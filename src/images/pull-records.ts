/**
 * Pull records (ECR's lastRecordedPullTime) without a D1 write per pull. Manifest GETs (not
 * HEADs) and BatchGetImage count (repository, digest) in a buffer of this isolate; the buffer
 * is written with one D1 batch, after the response (waitUntil), by the first pull that comes
 * at least PULL_RECORD_INTERVAL_SECONDS (wrangler.toml [vars], default 60) after this
 * isolate's last flush. The first flush comes no earlier than one interval after the
 * isolate's first pull, so a lone pull costs no D1 write.
 *
 * Freshness: ECR promises lastRecordedPullTime within 24 hours. Here a pull reaches D1 within
 * one interval when its isolate serves another pull after that interval; DescribeImages also
 * writes its own isolate's buffer before reading. Counts still buffered when an isolate is
 * evicted are lost (a pull time is then recorded by the next pull), which is the price of
 * not writing on every pull.
 */
import type { AppContext } from "../app-env";
import { BoundedMap } from "../bounded-map";
import { addPulls, type PullTally } from "../storage/manifest-records";

/** A buffer this large is written at once, so a busy isolate's memory stays bounded. */
const MAX_PENDING = 1000;

/**
 * While D1 writes fail, failed batches are merged back and pulls keep coming: past this many
 * (repository, digest) pairs the least recently pulled are dropped (their counts are lost, as
 * when an isolate is evicted), so a long outage cannot grow the buffer without end.
 */
const MAX_BUFFERED = 10 * MAX_PENDING;

const pending = new BoundedMap<string, PullTally>(MAX_BUFFERED);
/** Null until the first pull: workerd's clock does not run at module scope. */
let lastFlush: number | null = null;

/** Counts one pull of `digest`, and writes the buffer after the response if it is due. */
export function recordPull(c: AppContext, repository: string, digest: string): void {
  const now = Date.now();
  const key = `${repository}\n${digest}`;
  const tally = pending.get(key);
  if (tally) {
    tally.last = Math.max(tally.last, now);
    tally.count += 1;
  } else {
    pending.set(key, { repository, digest, last: now, count: 1 });
  }
  lastFlush ??= now;
  if (now - lastFlush >= c.var.settings.pullRecordIntervalMs || pending.size >= MAX_PENDING)
    runAfterResponse(c, flushPullRecords(c), "pull records");
}

/** Writes the buffered pulls now (nothing when none are buffered). */
export async function flushPullRecords(c: AppContext): Promise<void> {
  if (pending.size === 0) return;
  lastFlush = Date.now();
  const tallies = [...pending.values()];
  pending.clear();
  try {
    await addPulls(c.get("db"), tallies);
  } catch (error) {
    restore(tallies);
    throw error;
  }
}

/** Puts tallies a failed write took back into the buffer, merged with pulls counted since. */
function restore(tallies: readonly PullTally[]): void {
  for (const tally of tallies) {
    const key = `${tally.repository}\n${tally.digest}`;
    const current = pending.get(key);
    if (current) {
      current.last = Math.max(current.last, tally.last);
      current.count += tally.count;
    } else {
      pending.set(key, { ...tally });
    }
  }
}

/**
 * Runs `work` after the response (waitUntil); a failure is logged with `what` in one line (the
 * cause only: a failed query's error would print its parameters, an audit record among them),
 * never thrown.
 */
export function runAfterResponse(c: AppContext, work: Promise<void>, what: string): void {
  const guarded = work.catch((error: unknown) => {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    console.error(`${what}: write failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  });
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    // No execution context (a test calling app.fetch directly): the write still runs.
  }
}
