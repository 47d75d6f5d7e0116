/**
 * D1 access for lifecycle policies: the policy and its last evaluation on the repository row,
 * the images the evaluator looks at, and previews. (Expiries are written to the audit trail,
 * src/storage/audit-records.ts.)
 */
import { and, asc, eq, gt, isNotNull, sql } from "drizzle-orm";
import { jsonStrings, type Database } from "./database";
import { lifecyclePreviews, repositories } from "./schema";

/** An image as the lifecycle evaluator (src/lifecycle/evaluate.ts) sees it. */
export interface LifecycleImage {
  digest: string;
  tags: readonly string[];
  pushedAt: number;
  lastPulledAt: number | null;
  /** Digests of the manifests an index references (empty for an image manifest). */
  children: readonly string[];
  /** The subject digest of a referrer (signature, SBOM, ...), or null. */
  subject: string | null;
}

export async function setLifecyclePolicy(db: Database, name: string, policy: string | null): Promise<boolean> {
  const updated = await db
    .update(repositories)
    .set({ lifecyclePolicy: policy })
    .where(eq(repositories.name, name))
    .returning({ name: repositories.name });
  return updated.length > 0;
}

export async function setLifecycleEvaluatedAt(db: Database, name: string, at: number): Promise<void> {
  await db.update(repositories).set({ lifecycleEvaluatedAt: at }).where(eq(repositories.name, name));
}

/** Repositories with a lifecycle policy after `after` in name order, at most `limit`. */
export async function listRepositoriesWithLifecyclePolicy(
  db: Database,
  after: string | null,
  limit: number,
): Promise<{ name: string; policy: string }[]> {
  const rows = await db
    .select({ name: repositories.name, policy: repositories.lifecyclePolicy })
    .from(repositories)
    .where(and(isNotNull(repositories.lifecyclePolicy), after === null ? undefined : gt(repositories.name, after)))
    .orderBy(asc(repositories.name))
    .limit(limit);
  return rows.flatMap((row) => (row.policy === null ? [] : [{ name: row.name, policy: row.policy }]));
}

/** Every image of the repository as the evaluator sees it: one query, tags aggregated. */
export async function loadLifecycleImages(db: Database, repository: string): Promise<LifecycleImage[]> {
  const rows = await db.all<{
    digest: string;
    pushedAt: number;
    lastPulledAt: number | null;
    children: string;
    subject: string | null;
    tags: string | null;
  }>(sql`
    SELECT m.digest AS digest, m.pushed_at AS pushedAt, m.last_pulled_at AS lastPulledAt,
           m.child_digests AS children, m.subject AS subject, t.tags AS tags
    FROM manifests m
    LEFT JOIN (SELECT digest, json_group_array(tag) AS tags FROM tags WHERE repository = ${repository} GROUP BY digest) t
      ON t.digest = m.digest
    WHERE m.repository = ${repository}`);
  return rows.map((row) => ({
    digest: row.digest,
    pushedAt: row.pushedAt,
    lastPulledAt: row.lastPulledAt,
    children: jsonStrings(row.children),
    subject: row.subject,
    tags: row.tags === null ? [] : jsonStrings(row.tags),
  }));
}

export interface PreviewRow {
  status: "IN_PROGRESS" | "COMPLETE" | "FAILED";
  policyText: string;
  results: string | null;
  startedAt: number;
}

export async function findPreview(db: Database, repository: string): Promise<PreviewRow | undefined> {
  return db
    .select({
      status: lifecyclePreviews.status,
      policyText: lifecyclePreviews.policyText,
      results: lifecyclePreviews.results,
      startedAt: lifecyclePreviews.startedAt,
    })
    .from(lifecyclePreviews)
    .where(eq(lifecyclePreviews.repository, repository))
    .get();
}

/**
 * Marks a preview IN_PROGRESS unless one already is (and started less than `staleAfterMs`
 * ago); one statement, so two concurrent starts cannot both win. Returns whether it did.
 */
export async function beginPreview(
  db: Database,
  repository: string,
  policyText: string,
  now: number,
  staleAfterMs: number,
): Promise<boolean> {
  const written = await db
    .insert(lifecyclePreviews)
    .values({ repository, status: "IN_PROGRESS", policyText, results: null, startedAt: now })
    .onConflictDoUpdate({
      target: lifecyclePreviews.repository,
      set: { status: "IN_PROGRESS", policyText, results: null, startedAt: now },
      setWhere: sql`${lifecyclePreviews.status} != 'IN_PROGRESS' OR ${lifecyclePreviews.startedAt} < ${now - staleAfterMs}`,
    })
    .returning({ repository: lifecyclePreviews.repository });
  return written.length > 0;
}

export async function finishPreview(
  db: Database,
  repository: string,
  status: "COMPLETE" | "FAILED",
  results: string | null,
): Promise<void> {
  await db.update(lifecyclePreviews).set({ status, results }).where(eq(lifecyclePreviews.repository, repository));
}
