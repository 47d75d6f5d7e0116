/**
 * The simulated D1 read replica's catch-up (src/bench/simulated-geography.ts): copies every
 * table of the primary into SIMULATED_D1_REPLICA, as D1's replication would have by now. The
 * bench calls it after pushing (the replica has caught up); a test leaves it out to show a
 * replica that has not. Bench and tests only: the route that calls it needs bench mode.
 */

/** Copies the primary's tables (schema and rows) over the replica's, in one transaction. */
export async function copyDatabase(
  primary: D1Database,
  replica: D1Database,
): Promise<{ tables: number; rows: number }> {
  const { results: tables } = await primary
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL
       AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' ORDER BY rowid`,
    )
    .all<{ name: string; sql: string }>();
  // Rows are deleted children first and inserted parents first, so no foreign key is broken
  // (ON DELETE RESTRICT is checked at once even when checks are deferred).
  const ordered = await parentsFirst(primary, tables);
  const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;
  const creates = ordered.map((table) =>
    replica.prepare(table.sql.replace(/^CREATE TABLE\s+/i, "CREATE TABLE IF NOT EXISTS ")),
  );
  const deletes = ordered.map((table) => replica.prepare(`DELETE FROM ${quote(table.name)}`)).reverse();
  const inserts: D1PreparedStatement[] = [];
  for (const table of ordered) {
    const { results } = await primary.prepare(`SELECT * FROM ${quote(table.name)}`).all<Record<string, unknown>>();
    for (const row of results) {
      const columns = Object.keys(row);
      const values = columns.map((column) => {
        const value = row[column];
        return Array.isArray(value) ? new Uint8Array(value as number[]) : value;
      });
      inserts.push(
        replica
          .prepare(
            `INSERT INTO ${quote(table.name)} (${columns.map(quote).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
          )
          .bind(...values),
      );
    }
  }
  const statements = [replica.prepare("PRAGMA defer_foreign_keys = on"), ...creates, ...deletes, ...inserts];
  const rows = inserts.length;
  await replica.batch(statements);
  return { tables: tables.length, rows };
}

/** The tables ordered so that every table comes after the tables its foreign keys reference. */
async function parentsFirst<T extends { name: string }>(db: D1Database, tables: T[]): Promise<T[]> {
  const parents = new Map<string, string[]>();
  for (const table of tables) {
    const { results } = await db
      .prepare(`SELECT "table" AS parent FROM pragma_foreign_key_list(?)`)
      .bind(table.name)
      .all<{ parent: string }>();
    parents.set(
      table.name,
      results.map((row) => row.parent).filter((parent) => parent !== table.name),
    );
  }
  const ordered: T[] = [];
  const placed = new Set<string>();
  const place = (table: T, path: Set<string>) => {
    if (placed.has(table.name) || path.has(table.name)) return;
    path.add(table.name);
    for (const parent of parents.get(table.name) ?? []) {
      const parentTable = tables.find((candidate) => candidate.name === parent);
      if (parentTable !== undefined) place(parentTable, path);
    }
    placed.add(table.name);
    ordered.push(table);
  };
  for (const table of tables) place(table, new Set());
  return ordered;
}
