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

/** The id of the last audit record exported to R2 (src/audit/export.ts). */
const AUDIT_EXPORT_CURSOR = "audit-export-cursor";
/**
 * The last id of the page being written to R2: a run that stopped between writing it and
 * advancing the cursor writes the same page again, under the same key.
 */
const AUDIT_EXPORT_WRITING = "audit-export-writing";

export interface AuditExportCursor {
  /** Every record up to this id is in R2 (0: none yet). */
  exportedThrough: number;
  /** The last id of a page that may have been written after exportedThrough, or null. */
  writingThrough: number | null;
}

function storedId(value: string | undefined): number | null {
  const id = value === undefined ? NaN : Number(value);
  return Number.isSafeInteger(id) && id >= 0 ? id : null;
}

export async function findAuditExportCursor(db: Database): Promise<AuditExportCursor> {
  const [through, writing] = await Promise.all([
    findRegistrySetting(db, AUDIT_EXPORT_CURSOR),
    findRegistrySetting(db, AUDIT_EXPORT_WRITING),
  ]);
  const exportedThrough = storedId(through) ?? 0;
  const writingThrough = storedId(writing);
  // A page already exported (the cursor moved past it) constrains nothing.
  return {
    exportedThrough,
    writingThrough: writingThrough !== null && writingThrough > exportedThrough ? writingThrough : null,
  };
}

/** Records the page about to be written (its last id), before the object is put. */
export async function putAuditExportWriting(db: Database, lastId: number, now: number): Promise<void> {
  await putRegistrySetting(db, AUDIT_EXPORT_WRITING, String(lastId), now);
}

/** Moves the cursor past a page once its object is written. */
export async function putAuditExportCursor(db: Database, exportedThrough: number, now: number): Promise<void> {
  await putRegistrySetting(db, AUDIT_EXPORT_CURSOR, String(exportedThrough), now);
}
