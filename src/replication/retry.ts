/**
 * What the replication cron does with an item after an attempt fails: try again later, with
 * exponential backoff, or give up with a failure code. Pure (no clock, no randomness: the
 * jitter comes from the item's id), so every run of the cron decides the same way.
 *
 * A failure the destination will keep giving (its registry policy refuses this registry, the
 * source image is gone) fails the item at once; a transient one (the destination is down,
 * answers 5xx or 429, the invocation ran out of time) is retried until the item is
 * GIVE_UP_AFTER_MS old, then fails with the last failure's code.
 */

/** Why an attempt failed; also the failureCode DescribeImageReplicationStatus reports. */
export type ReplicationFailureCode =
  /** The destination's registry policy does not grant ecr:ReplicateImage (or ecr:CreateRepository). */
  | "REGISTRY_POLICY_DENIED"
  /** The source image was deleted before it was copied. */
  | "SOURCE_IMAGE_DELETED"
  /** The destination refused the content (4xx other than 429), e.g. a manifest it cannot take. */
  | "DESTINATION_REJECTED"
  /** No answer, a 5xx or a 429 from the destination until the item gave up. */
  | "DESTINATION_UNAVAILABLE"
  /** The destination names a replica region or registry this deployment has no bucket or endpoint for (yet). */
  | "DESTINATION_UNKNOWN";

// DESTINATION_UNKNOWN is retried: an administrator may add the destination's endpoint (or the
// replica bucket's binding) after the replication configuration names it.
const PERMANENT: ReadonlySet<ReplicationFailureCode> = new Set([
  "REGISTRY_POLICY_DENIED",
  "SOURCE_IMAGE_DELETED",
  "DESTINATION_REJECTED",
]);

/** The first retry waits this long; each next one twice as long, up to RETRY_MAX_MS. */
export const RETRY_BASE_MS = 60_000;
export const RETRY_MAX_MS = 30 * 60_000;
/** An item still failing this long after its push fails for good (ECR: most images arrive within 30 minutes). */
export const GIVE_UP_AFTER_MS = 6 * 60 * 60_000;

export interface FailedAttempt {
  id: number;
  /** When the work was recorded (the push). */
  createdAt: number;
  /** Attempts made before this one. */
  attempts: number;
  failure: ReplicationFailureCode;
}

export type AfterFailure =
  | { status: "IN_PROGRESS"; attempts: number; nextAttemptAt: number }
  | { status: "FAILED"; attempts: number; failureCode: ReplicationFailureCode };

/**
 * `baseMs`: the first wait (REPLICATION_RETRY_SECONDS); waits double up to 30 times it, and
 * never beyond RETRY_MAX_MS.
 */
export function afterFailure(attempt: FailedAttempt, now: number, baseMs = RETRY_BASE_MS): AfterFailure {
  const attempts = attempt.attempts + 1;
  if (PERMANENT.has(attempt.failure)) return { status: "FAILED", attempts, failureCode: attempt.failure };
  const maxMs = Math.min(RETRY_MAX_MS, baseMs * 30);
  const wait = Math.min(maxMs, baseMs * 2 ** Math.min(attempts - 1, 20));
  // Up to a quarter of the wait more, so items that failed together do not retry together.
  const jitter = Math.floor((wait / 4) * fraction(attempt.id * 31 + attempts));
  const nextAttemptAt = now + wait + jitter;
  if (nextAttemptAt - attempt.createdAt > GIVE_UP_AFTER_MS) {
    return { status: "FAILED", attempts, failureCode: attempt.failure };
  }
  return { status: "IN_PROGRESS", attempts, nextAttemptAt };
}

/** A fraction in [0, 1) spread over its input (a 32-bit integer hash). */
function fraction(seed: number): number {
  let x = seed | 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x ^= x >>> 16;
  return (x >>> 0) / 2 ** 32;
}
