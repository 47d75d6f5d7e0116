/**
 * The Durable Object's SQLite table of open upload sessions, with a lease per session so that
 * only one request at a time appends to it (see upload-session.ts), and the multipart part
 * numbers reserved for writers.
 */
import type { UploadSession } from "../storage/upload-writer";
import { lastPartNumber, normalizeSession } from "./upload-session";

interface SessionRow extends Record<string, SqlStorageValue> {
  state: string;
  lease: string | null;
  lease_expires: number;
  parts_reserved: number;
  updated_at: number;
}

export interface FoundSession {
  session: UploadSession;
  lease: string | null;
  leaseExpires: number;
  /** Every part number up to this one is, or may be, in use by some writer. */
  partsReserved: number;
}

function parse(state: string): UploadSession {
  return normalizeSession(JSON.parse(state) as UploadSession);
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
    // Added with fenced writers: tables made before lack them.
    for (const column of ["parts_reserved", "parts_floor"]) {
      try {
        sql.exec(`ALTER TABLE upload_sessions ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`);
      } catch (error) {
        if (!/duplicate column/i.test(String(error))) throw error;
      }
    }
  }

  insert(session: UploadSession, now: number): void {
    this.sql.exec(
      "INSERT INTO upload_sessions (id, state, updated_at) VALUES (?, ?, ?)",
      session.id,
      JSON.stringify(session),
      now,
    );
  }

  find(id: string): FoundSession | null {
    const row = this.sql
      .exec<SessionRow>(
        "SELECT state, lease, lease_expires, parts_reserved, updated_at FROM upload_sessions WHERE id = ?",
        id,
      )
      .toArray()[0];
    if (!row) return null;
    return {
      session: parse(row.state),
      lease: row.lease,
      leaseExpires: row.lease_expires,
      partsReserved: row.parts_reserved,
    };
  }

  /**
   * Gives the session to a new lease. The part numbers reserved so far become the floor no
   * commit goes below: a writer that lost its lease may still be writing any of them.
   */
  grant(id: string, lease: string, leaseExpires: number, now: number): void {
    this.sql.exec(
      "UPDATE upload_sessions SET lease = ?, lease_expires = ?, parts_floor = parts_reserved, updated_at = ? WHERE id = ?",
      lease,
      leaseExpires,
      now,
      id,
    );
  }

  /** Extends `lease`, if it still holds the session (expired or not, as long as no one took it). */
  renew(id: string, lease: string, leaseExpires: number, now: number): boolean {
    const cursor = this.sql.exec(
      "UPDATE upload_sessions SET lease_expires = ?, updated_at = ? WHERE id = ? AND lease = ?",
      leaseExpires,
      now,
      id,
      lease,
    );
    return cursor.rowsWritten > 0;
  }

  /** Records part numbers up to `through` as reserved, and renews `lease`, if it still holds the session. */
  reserve(id: string, lease: string, through: number, leaseExpires: number, now: number): boolean {
    const cursor = this.sql.exec(
      "UPDATE upload_sessions SET parts_reserved = ?, lease_expires = ?, updated_at = ? WHERE id = ? AND lease = ?",
      through,
      leaseExpires,
      now,
      id,
      lease,
    );
    return cursor.rowsWritten > 0;
  }

  /** Drops `lease` without changing the session, if it still holds it. */
  release(id: string, lease: string, now: number): void {
    this.sql.exec(
      "UPDATE upload_sessions SET lease = NULL, lease_expires = 0, updated_at = ? WHERE id = ? AND lease = ?",
      now,
      id,
      lease,
    );
  }

  /**
   * Saves new state and drops the lease, if `lease` still holds the session. The writer's
   * unused reservations are given back: numbers above both the session's last part and the
   * floor (what other writers may hold) were this writer's alone, and it is done.
   */
  commit(id: string, lease: string, session: UploadSession, now: number): boolean {
    const cursor = this.sql.exec(
      `UPDATE upload_sessions SET state = ?, lease = NULL, lease_expires = 0, parts_reserved = MAX(parts_floor, ?), updated_at = ?
       WHERE id = ? AND lease = ?`,
      JSON.stringify(session),
      lastPartNumber(session),
      now,
      id,
      lease,
    );
    return cursor.rowsWritten > 0;
  }

  delete(id: string): void {
    this.sql.exec("DELETE FROM upload_sessions WHERE id = ?", id);
  }

  /** Deletes the session if `lease` still holds it. */
  deleteHeld(id: string, lease: string): boolean {
    return this.sql.exec("DELETE FROM upload_sessions WHERE id = ? AND lease = ?", id, lease).rowsWritten > 0;
  }

  /** Sessions untouched since `before`. */
  idleSince(before: number): UploadSession[] {
    return this.sql
      .exec<SessionRow>("SELECT state FROM upload_sessions WHERE updated_at < ?", before)
      .toArray()
      .map((row) => parse(row.state));
  }

  /** Oldest `updated_at`, or null when there are no sessions. */
  oldestUpdate(): number | null {
    const row = this.sql.exec<{ oldest: number | null }>("SELECT MIN(updated_at) AS oldest FROM upload_sessions").one();
    return row.oldest;
  }
}
