/**
 * D1 access for ECR Public's repository catalog data (PutRepositoryCatalogData, the gallery):
 * one JSON row per repository, removed with it by the foreign key's cascade. The logo travels
 * as base64 inside the JSON; the gallery's search reads the rows without it (json_remove), so
 * a page of results never loads up to half a megabyte per repository.
 */
import { eq, sql } from "drizzle-orm";
import { inList, isForeignKeyFailure, type Database } from "./database";
import { repositoryCatalogData } from "./schema";

/** The logo formats kept (the gallery serves the bytes with this type, under a CSP of `img-src 'self' data:`). */
export type LogoMediaType = "image/png" | "image/jpeg";

/** Catalog data as stored: the members given to the last Put, and the logo's type beside its base64. */
export interface CatalogData {
  description?: string;
  architectures?: string[];
  operatingSystems?: string[];
  aboutText?: string;
  usageText?: string;
  /** The logo's bytes, base64 (as AWS JSON carried them). */
  logoImageBlob?: string;
  logoMediaType?: LogoMediaType;
}

/** What the gallery lists: everything but the logo's bytes, and whether there is one. */
export type CatalogSummary = Omit<CatalogData, "logoImageBlob"> & { hasLogo: boolean };

export interface CatalogRecord {
  repository: string;
  data: CatalogData;
  updatedAt: number;
}

/** Stores (replaces) the repository's catalog data; false when the repository does not exist. */
export async function putCatalogData(
  db: Database,
  repository: string,
  data: CatalogData,
  now: number,
): Promise<boolean> {
  const text = JSON.stringify(data);
  try {
    await db
      .insert(repositoryCatalogData)
      .values({ repository, data: text, updatedAt: now })
      .onConflictDoUpdate({ target: repositoryCatalogData.repository, set: { data: text, updatedAt: now } });
    return true;
  } catch (error) {
    // The repository row is gone (never created, or deleted meanwhile): nothing was written.
    if (isForeignKeyFailure(error)) return false;
    throw error;
  }
}

/** The repository's catalog data, logo included, or null when none was put. */
export async function findCatalogData(db: Database, repository: string): Promise<CatalogRecord | null> {
  const row = await db
    .select()
    .from(repositoryCatalogData)
    .where(eq(repositoryCatalogData.repository, repository))
    .get();
  return row === undefined
    ? null
    : { repository: row.repository, data: parseCatalogData(row.data), updatedAt: row.updatedAt };
}

/** Catalog summaries of the named repositories that have catalog data (one query, the list bound once). */
export async function findCatalogSummaries(
  db: Database,
  repositories: readonly string[],
): Promise<Map<string, CatalogSummary>> {
  const found = new Map<string, CatalogSummary>();
  if (repositories.length === 0) return found;
  const rows = await db
    .select({
      repository: repositoryCatalogData.repository,
      data: sql<string>`json_remove(${repositoryCatalogData.data}, '$.logoImageBlob')`,
      hasLogo: sql<number>`json_extract(${repositoryCatalogData.data}, '$.logoImageBlob') IS NOT NULL`,
    })
    .from(repositoryCatalogData)
    .where(inList(repositoryCatalogData.repository, repositories));
  for (const row of rows) found.set(row.repository, { ...parseCatalogData(row.data), hasLogo: row.hasLogo === 1 });
  return found;
}

/** The stored JSON, keeping only members of the expected types (a row is never trusted blindly). */
function parseCatalogData(text: string): CatalogData {
  const value: unknown = JSON.parse(text);
  const data: CatalogData = {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) return data;
  const stored = value as Record<string, unknown>;
  for (const key of ["description", "aboutText", "usageText", "logoImageBlob"] as const) {
    const member = stored[key];
    if (typeof member === "string") data[key] = member;
  }
  for (const key of ["architectures", "operatingSystems"] as const) {
    const member = stored[key];
    if (Array.isArray(member)) data[key] = member.filter((item): item is string => typeof item === "string");
  }
  if (stored.logoMediaType === "image/png" || stored.logoMediaType === "image/jpeg")
    data.logoMediaType = stored.logoMediaType;
  return data;
}
