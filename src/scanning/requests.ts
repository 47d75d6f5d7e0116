/**
 * Starting scans: the scan row (IN_PROGRESS, at most one scan per image per 24 hours, decided
 * in one D1 statement) and the queue message that has the consumer (./consumer.ts) read the
 * image. Used by StartImageScan, by a push under scan on push, and by continuous scanning after
 * an advisory import (which re-matches the stored inventory without reading layers).
 */
import { database, type Database } from "../storage/database";
import { findRepository } from "../storage/repository-records";
import { endImageScan, startImageScan } from "../storage/scan-records";
import { scanningFor } from "./configuration";
import { readScanningConfiguration } from "./store";

/** "scan": read the image's layers (those not read before) and match; "rematch": match the stored inventory again. */
export interface ScanMessage {
  kind: "scan" | "rematch";
  repository: string;
  digest: string;
}

/** A queue message's body, checked (a message is input like any other). */
export function parseScanMessage(body: unknown): ScanMessage | null {
  if (typeof body !== "object" || body === null) return null;
  const kind: unknown = Reflect.get(body, "kind");
  const repository: unknown = Reflect.get(body, "repository");
  const digest: unknown = Reflect.get(body, "digest");
  if ((kind !== "scan" && kind !== "rematch") || typeof repository !== "string" || typeof digest !== "string")
    return null;
  return { kind, repository, digest };
}

export const SCAN_IN_PROGRESS = "The scan is in progress.";

/** Starts a scan of the image; false when one started within the last 24 hours. */
export async function startScan(env: Env, db: Database, repository: string, digest: string): Promise<boolean> {
  const now = Date.now();
  if (!(await startImageScan(db, repository, digest, now, SCAN_IN_PROGRESS))) return false;
  try {
    await env.SCAN_QUEUE.send({ kind: "scan", repository, digest } satisfies ScanMessage);
  } catch (error) {
    // No message, no consumer: the scan must not stay IN_PROGRESS for ever.
    await endImageScan(db, repository, digest, "FAILED", "The scan could not be queued; start it again.", Date.now());
    throw error;
  }
  return true;
}

/** After a push stored a new image: scans it when scan on push applies to the repository. */
export async function scanAfterPush(env: Env, repository: string, digest: string): Promise<void> {
  const db = database(env.DB);
  const [configuration, row] = await Promise.all([readScanningConfiguration(db), findRepository(db, repository)]);
  if (row === undefined) return;
  if (scanningFor(configuration, repository, row.scanOnPush).scanOnPush) await startScan(env, db, repository, digest);
}
