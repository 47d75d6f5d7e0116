/**
 * D1 access to registry-wide settings (JSON or text values by key).
 */
import { eq } from "drizzle-orm";
import type { Database } from "./database";
import { registrySettings } from "./schema";

export async function findRegistrySetting(db: Database, key: string): Promise<string | undefined> {
  const row = await db
    .select({ value: registrySettings.value })
    .from(registrySettings)
    .where(eq(registrySettings.key, key))
    .get();
  return row?.value;
}

export async function putRegistrySetting(db: Database, key: string, value: string, now: number): Promise<void> {
  await db
    .insert(registrySettings)
    .values({ key, value, updatedAt: now })
    .onConflictDoUpdate({ target: registrySettings.key, set: { value, updatedAt: now } });
}

/** Deletes the setting; returns the value it had, or undefined when there was none. */
export async function deleteRegistrySetting(db: Database, key: string): Promise<string | undefined> {
  const removed = await db
    .delete(registrySettings)
    .where(eq(registrySettings.key, key))
    .returning({ value: registrySettings.value });
  return removed[0]?.value;
}

/** The key of the registry policy (ECR's PutRegistryPolicy). */
export const REGISTRY_POLICY = "registryPolicy";

/** The registry policy's text, or null when none is set. */
export async function findRegistryPolicy(db: Database): Promise<string | null> {
  return (await findRegistrySetting(db, REGISTRY_POLICY)) ?? null;
}
