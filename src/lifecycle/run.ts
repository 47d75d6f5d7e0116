/**
 * The scheduled lifecycle run: evaluates the policy of every repository that has one and
 * expires what it decides, through the repository's Durable Object, recording each expiry in
 * the audit table.
 *
 * Batched and resumable: repositories are visited in name order from a cursor kept in D1
 * (registry setting `lifecycleCursor`); a run stops starting new repositories once its time
 * budget is spent (after at least one) and the next run (the next cron tick) goes on from the
 * cursor. Expiries are
 * sent to the Durable Object in chunks, so one call never holds a long write; a run cut off
 * inside a repository simply evaluates that repository again next time (evaluation is
 * idempotent: what is already deleted is no longer there). When the sweep reaches the end,
 * the cursor goes back to the start.
 */
import { repositoryObject } from "../repository/stub";
import { database, type Database } from "../storage/database";
import {
  listRepositoriesWithLifecyclePolicy,
  loadLifecycleImages,
  setLifecycleEvaluatedAt,
} from "../storage/lifecycle-records";
import { recordAuditEvents } from "../storage/audit-records";
import { deleteRegistrySetting, findRegistrySetting, putRegistrySetting } from "../storage/registry-settings";
import { evaluateLifecycle, type ExpiryDecision } from "./evaluate";
import { LifecyclePolicyError, parseLifecyclePolicy } from "./policy";

export const LIFECYCLE_ACTOR = "lifecycle-policy";
const CURSOR_KEY = "lifecycleCursor";
const LAST_RUN_KEY = "lifecycleLastRun";
/** Repositories read from D1 per page of the sweep. */
const REPOSITORY_PAGE = 50;
/** Images per Durable Object call. */
const EXPIRE_CHUNK = 200;

export interface LifecycleRunOptions {
  /** Stop starting repositories after this long (ms); the default leaves room in a cron invocation. */
  budgetMs?: number;
  now?: number;
}

export interface LifecycleRunReport {
  startedAt: number;
  durationMs: number;
  repositories: number;
  imagesEvaluated: number;
  imagesExpired: number;
  /** True when the sweep reached the last repository (the cursor went back to the start). */
  sweepComplete: boolean;
}

/** One repository: evaluate, expire in chunks, audit. Returns (evaluated, expired). */
export async function applyLifecyclePolicy(
  env: Env,
  db: Database,
  name: string,
  policyText: string,
  now: number,
): Promise<{ evaluated: number; expired: number }> {
  let policy;
  try {
    policy = parseLifecyclePolicy(policyText);
  } catch (error) {
    // A stored policy was valid when it was put; a rule change of ours must not expire anything.
    if (error instanceof LifecyclePolicyError) return { evaluated: 0, expired: 0 };
    throw error;
  }
  const images = await loadLifecycleImages(db, name);
  const decisions = evaluateLifecycle(policy, images, now);
  let expired = 0;
  for (let at = 0; at < decisions.length; at += EXPIRE_CHUNK) {
    const chunk = decisions.slice(at, at + EXPIRE_CHUNK);
    const gone = new Set(
      await repositoryObject(env, name).expireImages(
        name,
        chunk.map(({ digest, tags, rulePriority }) => ({ digest, tags: [...tags], rulePriority })),
      ),
    );
    expired += gone.size;
    await recordAuditEvents(
      db,
      chunk.filter((decision) => gone.has(decision.digest)).map((decision) => auditOf(name, decision, now)),
    );
  }
  await setLifecycleEvaluatedAt(db, name, now);
  return { evaluated: images.length, expired };
}

function auditOf(repository: string, decision: ExpiryDecision, at: number) {
  return {
    at,
    actor: LIFECYCLE_ACTOR,
    action: "ExpireImage",
    repository,
    digest: decision.digest,
    detail: {
      rulePriority: decision.rulePriority,
      reason: decision.reason,
      tags: decision.tags,
      pushedAt: decision.pushedAt,
    },
  };
}

export async function runLifecycle(env: Env, options: LifecycleRunOptions = {}): Promise<LifecycleRunReport> {
  const db = database(env.DB);
  const startedAt = options.now ?? Date.now();
  const clockStart = Date.now();
  const budgetMs = options.budgetMs ?? 20_000;
  const report: LifecycleRunReport = {
    startedAt,
    durationMs: 0,
    repositories: 0,
    imagesEvaluated: 0,
    imagesExpired: 0,
    sweepComplete: false,
  };
  let cursor = (await findRegistrySetting(db, CURSOR_KEY)) ?? null;
  outer: for (;;) {
    const page = await listRepositoriesWithLifecyclePolicy(db, cursor, REPOSITORY_PAGE);
    for (const repository of page) {
      // At least one repository per run, so a sweep always moves on.
      if (report.repositories > 0 && Date.now() - clockStart >= budgetMs) break outer;
      const result = await applyLifecyclePolicy(env, db, repository.name, repository.policy, startedAt);
      report.repositories += 1;
      report.imagesEvaluated += result.evaluated;
      report.imagesExpired += result.expired;
      cursor = repository.name;
      await putRegistrySetting(db, CURSOR_KEY, cursor, Date.now());
    }
    if (page.length < REPOSITORY_PAGE) {
      report.sweepComplete = true;
      await deleteRegistrySetting(db, CURSOR_KEY);
      break;
    }
  }
  report.durationMs = Date.now() - clockStart;
  await putRegistrySetting(db, LAST_RUN_KEY, JSON.stringify(report), Date.now());
  return report;
}

/** What the last scheduled run did (for the admin API), or null before the first run. */
export async function lastLifecycleRun(db: Database): Promise<LifecycleRunReport | null> {
  const text = await findRegistrySetting(db, LAST_RUN_KEY);
  return text === undefined ? null : (JSON.parse(text) as LifecycleRunReport);
}
