/**
 * D1 access for pull-through cache rules and the registry's own secrets (their credentials).
 */
import { asc, count, eq, gt, inArray } from "drizzle-orm";
import type { Database } from "./database";
import { pullThroughCacheRules, registrySecrets } from "./schema";

export type PullThroughRule = typeof pullThroughCacheRules.$inferSelect;

export async function putRegistrySecret(db: Database, name: string, sealed: string, now: number): Promise<void> {
  await db
    .insert(registrySecrets)
    .values({ name, sealed, updatedAt: now })
    .onConflictDoUpdate({ target: registrySecrets.name, set: { sealed, updatedAt: now } });
}

export async function findRegistrySecret(db: Database, name: string): Promise<string | undefined> {
  return (await db.select({ sealed: registrySecrets.sealed }).from(registrySecrets).where(eq(registrySecrets.name, name)).get())?.sealed;
}

export async function deleteRegistrySecret(db: Database, name: string): Promise<boolean> {
  return (await db.delete(registrySecrets).where(eq(registrySecrets.name, name)).returning({ name: registrySecrets.name })).length > 0;
}

/** Inserts the rule unless its prefix exists, and unless `limit` rules exist already. */
export async function insertPullThroughRule(db: Database, rule: PullThroughRule, limit: number): Promise<"created" | "exists" | "limit"> {
  const [existing, total] = await db.batch([
    db.select({ prefix: pullThroughCacheRules.prefix }).from(pullThroughCacheRules).where(eq(pullThroughCacheRules.prefix, rule.prefix)),
    db.select({ n: count() }).from(pullThroughCacheRules),
  ]);
  if (existing.length > 0) return "exists";
  if ((total[0]?.n ?? 0) >= limit) return "limit";
  const inserted = await db.insert(pullThroughCacheRules).values(rule).onConflictDoNothing().returning({ prefix: pullThroughCacheRules.prefix });
  return inserted.length > 0 ? "created" : "exists";
}

export async function findPullThroughRules(db: Database, prefixes: readonly string[]): Promise<PullThroughRule[]> {
  if (prefixes.length === 0) return [];
  return db.select().from(pullThroughCacheRules).where(inArray(pullThroughCacheRules.prefix, [...prefixes]));
}

export async function listPullThroughRules(db: Database, after: string | null, limit: number): Promise<PullThroughRule[]> {
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
