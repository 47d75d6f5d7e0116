/**
 * D1 access to the advisory store (OSV records) and the index of the packages they name.
 * An import replaces a record only with a newer `modified`, so importing the same archive
 * twice, or an older copy, changes nothing.
 */
import { and, eq, sql } from "drizzle-orm";
import { inList, type Database } from "./database";
import { advisories, advisoryPackages } from "./schema";

export interface AdvisoryImport {
  id: string;
  modified: string;
  document: string;
  /** The packages it names: ecosystem family and name, as the matcher compares them. */
  packages: { ecosystem: string; name: string }[];
}

/** Records per D1 batch (three statements each). */
const RECORDS_PER_BATCH = 50;

/** Stores the records that are new or newer than the stored ones; the ids stored. */
export async function upsertAdvisories(
  db: Database,
  records: readonly AdvisoryImport[],
  now: number,
): Promise<string[]> {
  const changed: string[] = [];
  for (let at = 0; at < records.length; at += RECORDS_PER_BATCH) {
    const chunk = records.slice(at, at + RECORDS_PER_BATCH);
    // Per record: the row (only when newer), then its package index rebuilt when the row was.
    const statements = chunk.flatMap((record) => {
      const storedNow = sql`EXISTS (SELECT 1 FROM advisories WHERE id = ${record.id} AND imported_at = ${now})`;
      return [
        db
          .insert(advisories)
          .values({ id: record.id, modified: record.modified, document: record.document, importedAt: now })
          .onConflictDoUpdate({
            target: advisories.id,
            set: { modified: record.modified, document: record.document, importedAt: now },
            setWhere: sql`${record.modified} > ${advisories.modified}`,
          })
          .returning({ id: advisories.id }),
        db.delete(advisoryPackages).where(and(eq(advisoryPackages.advisoryId, record.id), storedNow)),
        db
          .insert(advisoryPackages)
          .select(
            sql`SELECT ${record.id}, json_extract(value, '$.ecosystem'), json_extract(value, '$.name')
              FROM json_each(${JSON.stringify(record.packages)}) WHERE ${storedNow}`,
          )
          .onConflictDoNothing(),
      ];
    });
    const [first, ...rest] = statements;
    if (first === undefined) continue;
    const results = await db.batch([first, ...rest]);
    chunk.forEach((record, index) => {
      const stored = results[index * 3];
      if (Array.isArray(stored) && stored.length > 0) changed.push(record.id);
    });
  }
  return changed;
}

/** The advisories naming any of `names` in the ecosystem family (each once). */
export async function findAdvisoriesFor(
  db: Database,
  ecosystem: string,
  names: readonly string[],
): Promise<{ id: string; document: string }[]> {
  if (names.length === 0) return [];
  return db.all<{ id: string; document: string }>(sql`
    SELECT a.id, a.document FROM advisories a
    WHERE a.id IN (SELECT advisory_id FROM advisory_packages
      WHERE ecosystem = ${ecosystem} AND ${inList(sql`name`, names)})`);
}

/** When the store last changed (epoch ms), or null when it is empty. */
export async function advisoriesUpdatedAt(db: Database): Promise<number | null> {
  const row = await db
    .select({ at: sql<number | null>`max(${advisories.importedAt})` })
    .from(advisories)
    .get();
  return row?.at ?? null;
}

/** The number of stored advisories. */
export async function countAdvisories(db: Database): Promise<number> {
  const row = await db
    .select({ n: sql<number>`count(*)` })
    .from(advisories)
    .get();
  return row?.n ?? 0;
}
