/**
 * D1 access for pull-through cache rules, the registry's own secrets (their credentials) and
 * what each rule's upstream last said (rate limits, failures, request counts).
 */
import { asc, count, eq, gt, sql } from "drizzle-orm";
import { inList, type Database } from "./database";
import { pullThroughCacheRules, pullThroughUpstreamStatus, registrySecrets } from "./schema";

export type PullThroughRule = typeof pullThroughCacheRules.$inferSelect;

export async function putRegistrySecret(db: Database, name: string, sealed: string, now: number): Promise<void> {
  await db
    .insert(registrySecrets)
    .values({ name, sealed, updatedAt: now })
    .onConflictDoUpdate({ target: registrySecrets.name, set: { sealed, updatedAt: now } });
}

export async function findRegistrySecret(db: Database, name: string): Promise<string | undefined> {
  return (
    await db
      .select({ sealed: registrySecrets.sealed })
      .from(registrySecrets)
      .where(eq(registrySecrets.name, name))
      .get()
  )?.sealed;
}

/** Every secret whose name starts with `prefix`, by name. */
export async function listRegistrySecrets(db: Database, prefix: string): Promise<{ name: string; sealed: string }[]> {
  return db
    .select({ name: registrySecrets.name, sealed: registrySecrets.sealed })
    .from(registrySecrets)
    .where(sql`substr(${registrySecrets.name}, 1, ${prefix.length}) = ${prefix}`)
    .orderBy(registrySecrets.name);
}

export async function deleteRegistrySecret(db: Database, name: string): Promise<boolean> {
  return (
    (await db.delete(registrySecrets).where(eq(registrySecrets.name, name)).returning({ name: registrySecrets.name }))
      .length > 0
  );
}

/** Inserts the rule unless its prefix exists, and unless `limit` rules exist already. */
export async function insertPullThroughRule(
  db: Database,
  rule: PullThroughRule,
  limit: number,
): Promise<"created" | "exists" | "limit"> {
  const [existing, total] = await db.batch([
    db
      .select({ prefix: pullThroughCacheRules.prefix })
      .from(pullThroughCacheRules)
      .where(eq(pullThroughCacheRules.prefix, rule.prefix)),
    db.select({ n: count() }).from(pullThroughCacheRules),
  ]);
  if (existing.length > 0) return "exists";
  if ((total[0]?.n ?? 0) >= limit) return "limit";
  const inserted = await db
    .insert(pullThroughCacheRules)
    .values(rule)
    .onConflictDoNothing()
    .returning({ prefix: pullThroughCacheRules.prefix });
  return inserted.length > 0 ? "created" : "exists";
}

export async function findPullThroughRules(db: Database, prefixes: readonly string[]): Promise<PullThroughRule[]> {
  if (prefixes.length === 0) return [];
  return db.select().from(pullThroughCacheRules).where(inList(pullThroughCacheRules.prefix, prefixes));
}

export async function listPullThroughRules(
  db: Database,
  after: string | null,
  limit: number,
): Promise<PullThroughRule[]> {
  return db
    .select()
    .from(pullThroughCacheRules)
    .where(after === null ? undefined : gt(pullThroughCacheRules.prefix, after))
    .orderBy(asc(pullThroughCacheRules.prefix))
    .limit(limit);
}

export async function updatePullThroughRule(
  db: Database,
  prefix: string,
  changes: { credentialArn?: string | null; customRoleArn?: string | null },
  now: number,
): Promise<PullThroughRule | undefined> {
  const updated = await db
    .update(pullThroughCacheRules)
    .set({ ...changes, updatedAt: now })
    .where(eq(pullThroughCacheRules.prefix, prefix))
    .returning();
  return updated[0];
}

export async function deletePullThroughRule(db: Database, prefix: string): Promise<PullThroughRule | undefined> {
  return (await db.delete(pullThroughCacheRules).where(eq(pullThroughCacheRules.prefix, prefix)).returning())[0];
}

/** Every rule (a registry has at most 50): what the pull path matches names against. */
export async function listAllPullThroughRules(db: Database): Promise<PullThroughRule[]> {
  return db.select().from(pullThroughCacheRules);
}

export type UpstreamStatus = typeof pullThroughUpstreamStatus.$inferSelect;

/** One upstream answer (or failure to answer) seen by the cache of rule `prefix`. */
export interface UpstreamContact {
  prefix: string;
  at: number;
  /** HTTP status; 0 when the upstream could not be reached. */
  status: number;
  kind: "manifest" | "blob";
  rateLimit: { limit: string | null; remaining: string | null; source: string | null } | null;
  error: string | null;
}

/** Records an upstream contact in one statement (counters grow; rate limits kept until sent again). */
export async function recordUpstreamContact(db: Database, contact: UpstreamContact): Promise<void> {
  const manifest = contact.kind === "manifest" ? 1 : 0;
  const blob = contact.kind === "blob" ? 1 : 0;
  const rateLimitedAt = contact.status === 429 ? contact.at : null;
  const errorAt = contact.error === null ? null : contact.at;
  await db.run(sql`
    INSERT INTO pull_through_upstream_status (prefix, last_contact_at, last_status, rate_limit_limit, rate_limit_remaining,
      rate_limit_source, rate_limited_at, last_error, last_error_at, manifest_requests, blob_requests)
    VALUES (${contact.prefix}, ${contact.at}, ${contact.status}, ${contact.rateLimit?.limit ?? null}, ${contact.rateLimit?.remaining ?? null},
      ${contact.rateLimit?.source ?? null}, ${rateLimitedAt}, ${contact.error}, ${errorAt}, ${manifest}, ${blob})
    ON CONFLICT (prefix) DO UPDATE SET
      last_contact_at = excluded.last_contact_at,
      last_status = excluded.last_status,
      rate_limit_limit = coalesce(excluded.rate_limit_limit, rate_limit_limit),
      rate_limit_remaining = coalesce(excluded.rate_limit_remaining, rate_limit_remaining),
      rate_limit_source = coalesce(excluded.rate_limit_source, rate_limit_source),
      rate_limited_at = coalesce(excluded.rate_limited_at, rate_limited_at),
      last_error = coalesce(excluded.last_error, last_error),
      last_error_at = coalesce(excluded.last_error_at, last_error_at),
      manifest_requests = manifest_requests + excluded.manifest_requests,
      blob_requests = blob_requests + excluded.blob_requests`);
}

export async function listUpstreamStatus(db: Database): Promise<UpstreamStatus[]> {
  return db.select().from(pullThroughUpstreamStatus).orderBy(asc(pullThroughUpstreamStatus.prefix));
}
