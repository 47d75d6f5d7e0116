/**
 * The replication run (the every-minute cron, src/jobs/scheduled.ts): drains the replication
 * work that pushes recorded (src/storage/replication-records.ts), in batches that fit one
 * invocation's limits, and records each item's outcome.
 *
 *  - Resumable and idempotent: an item is claimed with a lease (its next attempt moved past the
 *    run), so a run that stops mid-way leaves it to a later run, and two runs at once never take
 *    the same item. Copying is idempotent too: what a destination already holds is not copied.
 *  - Bounded: each run spends at most `operations` subrequests (D1 queries, R2 calls, fetches)
 *    and `durationMs` of wall time; an item whose copy would not fit is given back untouched.
 *  - Retried: a failed attempt is retried with backoff or fails with a code (./retry.ts).
 */
import { authConfig } from "../auth/config";
import { originOf, replicationEvent } from "../events/envelope";
import { announceEvents } from "../events/messages";
import type { Settings } from "../config/settings";
import { replicaBuckets } from "../config/load";
import { database, type Database } from "../storage/database";
import { findRegistrySetting, putRegistrySetting } from "../storage/registry-settings";
import {
  claimDueItems,
  releaseItems,
  settleItem,
  type ItemSettlement,
  type ReplicationItem,
} from "../storage/replication-records";
import { OperationBudget } from "./budget";
import { loadImageContent } from "./content";
import { findRegistryDestination, type RegistryDestination } from "./destinations";
import { regionalCost, replicateToRegion } from "./regional";
import { ReplicationAttemptError } from "./registry-client";
import { registryCost, replicateToRegistry } from "./registry-push";
import { afterFailure, type ReplicationFailureCode } from "./retry";

const LAST_RUN = "replicationLastRun";
/** Items claimed at a time. */
const CLAIM_BATCH = 25;
/** How long a claimed item is the run's: past any run's duration (a cron invocation's wall time is at most 15 minutes). */
export const CLAIM_LEASE_MS = 20 * 60_000;
/**
 * Subrequests one run may make: Workers' paid plan allows 10,000 per invocation; the run keeps
 * to a tenth of it, so a deployment on the older 1,000 limit is served too.
 */
export const DEFAULT_OPERATION_BUDGET = 900;
/** Wall time one run may take before it starts nothing new. */
export const DEFAULT_DURATION_MS = 10 * 60_000;

export interface ReplicationOptions {
  operations?: number;
  durationMs?: number;
}

export interface ReplicationReport {
  startedAt: number;
  durationMs: number;
  /** Items taken and attempted. */
  attempted: number;
  completed: number;
  /** Attempts that failed and will be retried. */
  retrying: number;
  failed: number;
  /** Bytes copied to destinations (blobs and manifests a destination already had are not counted). */
  bytesCopied: number;
  /** Subrequests spent (D1 queries, R2 calls, fetches). */
  operations: number;
  /** True when no due item was left: the backlog is drained for now. */
  drained: boolean;
}

type Outcome =
  | { status: "complete"; bytesCopied: number }
  | { status: "failed"; failure: ReplicationFailureCode }
  /** Would not fit in what the run has left: given back for the next run. */
  | { status: "deferred" };

export async function runReplication(
  env: Env,
  settings: Settings,
  options: ReplicationOptions = {},
): Promise<ReplicationReport> {
  const db = database(env.DB);
  const startedAt = Date.now();
  const budget = new OperationBudget(
    options.operations ?? DEFAULT_OPERATION_BUDGET,
    startedAt + (options.durationMs ?? DEFAULT_DURATION_MS),
  );
  const report: ReplicationReport = {
    startedAt,
    durationMs: 0,
    attempted: 0,
    completed: 0,
    retrying: 0,
    failed: 0,
    bytesCopied: 0,
    operations: 0,
    drained: false,
  };
  let firstItem = true;
  const destinations = new DestinationCache(db, settings, budget);
  claiming: while (!budget.exhausted) {
    budget.spend(1);
    const now = Date.now();
    const items = await claimDueItems(db, now, now + CLAIM_LEASE_MS, CLAIM_BATCH);
    if (items.length === 0) {
      report.drained = true;
      break;
    }
    for (const [index, item] of items.entries()) {
      // The first item of a run is always attempted, so an image larger than a whole budget
      // still moves (Workers' real limit is ten times the budget).
      const outcome =
        budget.exhausted && !firstItem
          ? { status: "deferred" as const }
          : await attempt(env, db, settings, item, budget, firstItem, destinations);
      if (outcome.status === "deferred") {
        budget.spend(1);
        await releaseItems(
          db,
          items.slice(index).map((rest) => rest.id),
          Date.now(),
        );
        break claiming;
      }
      firstItem = false;
      report.attempted += 1;
      const settlement = settle(item, outcome, Date.now(), settings.replicationRetryMs);
      const event = replicationEventOf(settings, item, settlement);
      // The settlement, and the event's statement in its batch.
      budget.spend(event === null ? 1 : 2);
      await settleItem(db, settlement, Date.now(), event);
      if (settlement.status === "COMPLETE") report.completed += 1;
      else if (settlement.status === "FAILED") report.failed += 1;
      else report.retrying += 1;
      if (outcome.status === "complete") report.bytesCopied += outcome.bytesCopied;
    }
  }
  if (report.completed + report.failed > 0) {
    budget.spend(1);
    await announceEvents(env.EVENT_QUEUE);
  }
  // Kept for the admin view when the run did something (an idle minute writes nothing).
  const keep = report.attempted > 0;
  if (keep) budget.spend(1);
  report.operations = budget.used;
  report.durationMs = Date.now() - startedAt;
  if (keep) await putRegistrySetting(db, LAST_RUN, JSON.stringify(report), Date.now());
  return report;
}

/** What the last replication run that attempted anything did, or null. */
export async function lastReplicationRun(db: Database): Promise<ReplicationReport | null> {
  const text = await findRegistrySetting(db, LAST_RUN);
  return text === undefined ? null : (JSON.parse(text) as ReplicationReport);
}

/** Other registries' endpoints and credentials, read once per run. */
class DestinationCache {
  private readonly found = new Map<string, Promise<RegistryDestination | null>>();

  constructor(
    private readonly db: Database,
    private readonly settings: Settings,
    private readonly budget: OperationBudget,
  ) {}

  find(registryId: string): Promise<RegistryDestination | null> {
    let destination = this.found.get(registryId);
    if (destination === undefined) {
      this.budget.spend(1);
      destination = authConfig(this.settings.auth).then((config) =>
        findRegistryDestination(this.db, config.secretsKey, registryId),
      );
      this.found.set(registryId, destination);
    }
    return destination;
  }
}

/** The "ECR Replication Action" of an item that ended (none while it is retried). */
function replicationEventOf(settings: Settings, item: ReplicationItem, settlement: ItemSettlement) {
  if (settlement.status === "IN_PROGRESS") return null;
  return replicationEvent(
    originOf(settings),
    {
      repository: item.repository,
      digest: item.digest,
      tag: item.tag,
      result: settlement.status === "COMPLETE" ? "SUCCESS" : "FAILURE",
      destinationRegion: item.region,
      destinationRegistryId: item.registryId,
      ...(settlement.status === "FAILED" ? { failureCode: settlement.failureCode } : {}),
    },
    Date.now(),
  );
}

function settle(
  item: ReplicationItem,
  outcome: Exclude<Outcome, { status: "deferred" }>,
  now: number,
  retryBaseMs: number,
): ItemSettlement {
  if (outcome.status === "complete") return { id: item.id, status: "COMPLETE", attempts: item.attempts + 1 };
  const next = afterFailure({ ...item, failure: outcome.failure }, now, retryBaseMs);
  return next.status === "FAILED"
    ? { id: item.id, status: "FAILED", attempts: next.attempts, failureCode: next.failureCode }
    : {
        id: item.id,
        status: "IN_PROGRESS",
        attempts: next.attempts,
        nextAttemptAt: next.nextAttemptAt,
        failureCode: outcome.failure,
      };
}

/** One attempt at one item: never throws (a failure is an outcome). */
async function attempt(
  env: Env,
  db: Database,
  settings: Settings,
  item: ReplicationItem,
  budget: OperationBudget,
  first: boolean,
  destinations: DestinationCache,
): Promise<Outcome> {
  try {
    const content = await loadImageContent(db, item.repository, item.digest, budget);
    if (content === null) return { status: "failed", failure: "SOURCE_IMAGE_DELETED" };
    if (item.registryId !== settings.auth.accountId) {
      const destination = await destinations.find(item.registryId);
      if (destination === null) return { status: "failed", failure: "DESTINATION_UNKNOWN" };
      if (!first && !budget.fits(registryCost(content, destination))) return { status: "deferred" };
      const pushed = await replicateToRegistry(env.BLOBS, db, destination, item.repository, item.tag, content, budget);
      return { status: "complete", bytesCopied: pushed.bytesCopied };
    }
    const replica = replicaBuckets(env, settings).find((entry) => entry.region === item.region);
    if (replica === undefined) return { status: "failed", failure: "DESTINATION_UNKNOWN" };
    if (!first && !budget.fits(regionalCost(content))) return { status: "deferred" };
    const result = await replicateToRegion(env.BLOBS, replica.bucket, content, budget);
    return result.status === "complete" ? result : { status: "failed", failure: "SOURCE_IMAGE_DELETED" };
  } catch (error) {
    if (error instanceof ReplicationAttemptError) {
      console.error(`replication of ${item.repository}@${item.digest} to ${item.registryId}: ${error.message}`);
      return { status: "failed", failure: error.failure };
    }
    console.error(
      `replication of ${item.repository}@${item.digest} to ${item.registryId}/${item.region} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return { status: "failed", failure: "DESTINATION_UNAVAILABLE" };
  }
}
