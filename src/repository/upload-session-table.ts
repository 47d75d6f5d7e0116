/**
 * The Durable Object's SQLite table of open upload sessions, with a lease per session so that
 * only one request at a time appends to it.
 */
import type { UploadSession } from "./upload-session";

interface SessionRow extends Record<string, SqlStorageValue> {
  state: string;
  lease: string | null;
  lease_expires: number;
  updated_at: number;
}

export class UploadSessionTable {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS upload_sessions (
      id TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      lease TEXT,
      lease_expires INTEGER NOT NULL DEFAULT 0,
      updated_at INTEGER NOT NULL
    )`);
  }

  insert(session: UploadSession, now: number): void {
    this.sql.exec(
      "INSERT INTO upload_sessions (id, state, updated_at) VALUES (?, ?, ?)",
      session.id,
      JSON.stringify(session),
      now,
    );
  }

  find(id: string): { session: UploadSession; lease: string | null; leaseExpires: number } | null {
    const row = this.sql
      .exec<SessionRow>("SELECT state, lease, lease_expires, updated_at FROM upload_sessions WHERE id = ?", id)
      .toArray()[0];
    if (!row) return null;
    return { session: JSON.parse(row.state) as UploadSession, lease: row.lease, leaseExpires: row.lease_expires };
  }

  setLease(id: string, lease: string | null, leaseExpires: number, now: number): void {
    this.sql.exec(
      "UPDATE upload_sessions SET lease = ?, lease_expires = ?, updated_at = ? WHERE id = ?",
      lease,
      leaseExpires,
      now,
      id,
    );
  }

  /** Saves new state and drops the lease, if `lease` still holds the session. */
  commit(id: string, lease: string, session: UploadSession, now: number): boolean {
    const cursor = this.sql.exec(
      "UPDATE upload_sessions SET state = ?, lease = NULL, lease_expires = 0, updated_at = ? WHERE id = ? AND lease = ?",
      JSON.stringify(session),
      now,
      id,
      lease,
    );
    return cursor.rowsWritten > 0;
  }

  delete(id: string): void {
    this.sql.exec("DELETE FROM upload_sessions WHERE id = ?", id);
  }

  /** Sessions untouched since `before`. */
  idleSince(before: number): UploadSession[] {
    return this.sql
      .exec<SessionRow>("SELECT state, lease, lease_expires, updated_at FROM upload_sessions WHERE updated_at < ?", before)
      .toArray()
      .map((row) => JSON.parse(row.state) as UploadSession);
  }

  /** Oldest `updated_at`, or null when there are no sessions. */
  oldestUpdate(): number | null {
    const row = this.sql.exec<{ oldest: number | null }>("SELECT MIN(updated_at) AS oldest FROM upload_sessions").one();
    return row.oldest;
  }
}
