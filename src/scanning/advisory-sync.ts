/**
 * Keeping the advisory store current (the `advisories` job, every 15 minutes): for each source
 * of ADVISORY_SOURCES, an OSV folder as OSV.dev publishes one per ecosystem
 * (`https://osv-vulnerabilities.storage.googleapis.com/Debian`), the job reads the folder's
 * `modified_id.csv` (newest first: `<modified>,<id>` per line) only down to what the last run
 * saw, then fetches the newer records (`<folder>/<id>.json`) oldest first and imports them. A
 * run stops at its subrequest budget; the source's cursor (registry setting
 * `advisorySource:<url>`) moves only past records imported, so the next run goes on from there.
 */
import type { Settings } from "../config/settings";
import { OperationBudget } from "../replication/budget";
import { database, type Database } from "../storage/database";
import { findRegistrySetting, putRegistrySetting } from "../storage/registry-settings";
import { importAdvisories } from "./advisory-import";

export interface AdvisorySyncReport {
  startedAt: number;
  sources: { url: string; newer: number; fetched: number; imported: number; failed: number; error: string | null }[];
  /** False when the budget ran out before every newer record was fetched. */
  caughtUp: boolean;
}

/** Subrequests one run spends (each fetch, and the D1 statements of the import), well inside Workers' per-invocation limit. */
const RUN_SUBREQUESTS = 500;
const RUN_MS = 5 * 60 * 1000;
/** Records imported per call of the import (a D1 batch per 50). */
const IMPORT_CHUNK = 100;

const cursorKey = (url: string) => `advisorySource:${url}`;

/** The `<modified>,<id>` lines newer than or as new as `since` (all when null), oldest first. */
export function newerEntries(csv: string, since: string | null): { modified: string; id: string }[] {
  const entries: { modified: string; id: string }[] = [];
  for (const line of csv.split("\n")) {
    const [modified = "", id = ""] = line.trim().split(",");
    if (modified === "" || id === "") continue;
    const time = Date.parse(modified);
    if (Number.isNaN(time)) continue;
    const iso = new Date(time).toISOString();
    // Newest first: everything after the cursor was seen by an earlier run. Records at the
    // cursor's own time are fetched again (an import of an unchanged record changes nothing).
    if (since !== null && iso < since) break;
    entries.push({ modified: iso, id });
  }
  return entries.reverse();
}

export async function runAdvisorySync(env: Env, settings: Settings): Promise<AdvisorySyncReport> {
  const startedAt = Date.now();
  const db = database(env.DB);
  const budget = new OperationBudget(RUN_SUBREQUESTS, startedAt + RUN_MS);
  const report: AdvisorySyncReport = { startedAt, sources: [], caughtUp: true };
  for (const url of settings.advisorySources) {
    const source = { url, newer: 0, fetched: 0, imported: 0, failed: 0, error: null as string | null };
    report.sources.push(source);
    try {
      const caughtUp = await syncSource(env, db, url, budget, source);
      if (!caughtUp) report.caughtUp = false;
    } catch (error) {
      source.error = error instanceof Error ? error.message : String(error);
      report.caughtUp = false;
    }
  }
  return report;
}

async function syncSource(
  env: Env,
  db: Database,
  url: string,
  budget: OperationBudget,
  source: AdvisorySyncReport["sources"][number],
): Promise<boolean> {
  const since = (await findRegistrySetting(db, cursorKey(url))) ?? null;
  budget.spend(2);
  const listing = await fetch(`${url}/modified_id.csv`);
  if (!listing.ok) throw new Error(`${url}/modified_id.csv answered ${listing.status}`);
  const entries = newerEntries(await listing.text(), since);
  source.newer = entries.length;
  for (let at = 0; at < entries.length; at += IMPORT_CHUNK) {
    const chunk = entries.slice(at, at + IMPORT_CHUNK);
    const documents: unknown[] = [];
    let taken = 0;
    for (const entry of chunk) {
      // One fetch each, and the import's D1 work (a few statements per record).
      if (!budget.fits(4)) break;
      budget.spend(1);
      const response = await fetch(`${url}/${encodeURIComponent(entry.id)}.json`);
      taken += 1;
      source.fetched += 1;
      if (!response.ok) {
        source.failed += 1;
        continue;
      }
      documents.push(await response.json());
    }
    const imported = await importAdvisories(env, db, documents);
    budget.spend(Math.ceil(documents.length / 50) + 3);
    source.imported += imported.imported;
    source.failed += imported.rejected.length;
    const last = chunk[taken - 1];
    if (last !== undefined) await putRegistrySetting(db, cursorKey(url), last.modified, Date.now());
    if (taken < chunk.length) return false;
  }
  return true;
}
