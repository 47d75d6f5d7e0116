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
  const statements: D1PreparedStatement[] = [replica.prepare("PRAGMA defer_foreign_keys = on")];
  let rows = 0;
  for (const table of tables) {
    const quoted = `"${table.name.replace(/"/g, '""')}"`;
    statements.push(replica.prepare(table.sql.replace(/^CREATE TABLE\s+/i, "CREATE TABLE IF NOT EXISTS ")));
    statements.push(replica.prepare(`DELETE FROM ${quoted}`));
    const { results } = await primary.prepare(`SELECT * FROM ${quoted}`).all<Record<string, unknown>>();
    for (const row of results) {
      const columns = Object.keys(row);
      const values = columns.map((column) => {
        const value = row[column];
        return Array.isArray(value) ? new Uint8Array(value as number[]) : value;
      });
      statements.push(
        replica
          .prepare(
            `INSERT INTO ${quoted} (${columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
          )
          .bind(...values),
      );
      rows += 1;
    }
  }
  await replica.batch(statements);
  return { tables: tables.length, rows };
}
