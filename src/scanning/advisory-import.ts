/**
 * Importing advisories into the store: each record checked as OSV (a bad one is reported by
 * its position and id, the others still imported), indexed by the packages it names, stored
 * when new or newer. When anything changed, continuous scanning re-matches the stored
 * inventories of images in repositories under a CONTINUOUS_SCAN rule (queued, no layer read);
 * SCAN_ON_PUSH and MANUAL images keep their findings until scanned again.
 */
import { upsertAdvisories, type AdvisoryImport } from "../storage/advisory-records";
import type { Database } from "../storage/database";
import { listCompletedScans } from "../storage/scan-records";
import { OsvFormatError, parseOsv } from "./advisories/osv";
import { scanningFor } from "./configuration";
import { ecosystemFamily, indexName } from "./findings";
import type { ScanMessage } from "./requests";
import { readScanningConfiguration } from "./store";

export interface ImportReport {
  received: number;
  /** New or newer records stored. */
  imported: number;
  /** Records the store already had at that `modified` or later. */
  unchanged: number;
  rejected: { index: number; id: string | null; reason: string }[];
  /** Images whose findings are being updated (continuous scanning). */
  rescans: number;
}

/** Queue sendBatch takes at most 100 messages. */
const SEND_BATCH = 100;

export async function importAdvisories(env: Env, db: Database, documents: readonly unknown[]): Promise<ImportReport> {
  const records: AdvisoryImport[] = [];
  const rejected: ImportReport["rejected"] = [];
  documents.forEach((document, index) => {
    try {
      const advisory = parseOsv(document);
      const packages = new Map<string, { ecosystem: string; name: string }>();
      for (const affected of advisory.affected) {
        if (affected.package === undefined) continue;
        const family = ecosystemFamily(affected.package.ecosystem);
        const name = indexName(family, affected.package.name);
        packages.set(`${family}\u0000${name}`, { ecosystem: family, name });
      }
      records.push({
        id: advisory.id,
        modified: advisory.modified,
        document: JSON.stringify(document),
        packages: [...packages.values()],
      });
    } catch (error) {
      if (!(error instanceof OsvFormatError)) throw error;
      const id: unknown = typeof document === "object" && document !== null ? Reflect.get(document, "id") : undefined;
      rejected.push({ index, id: typeof id === "string" ? id : null, reason: error.message });
    }
  });
  const changed = await upsertAdvisories(db, records, Date.now());
  const rescans = changed.length > 0 ? await rescanContinuous(env, db) : 0;
  return {
    received: documents.length,
    imported: changed.length,
    unchanged: records.length - changed.length,
    rejected,
    rescans,
  };
}

/** Queues a re-match of every completed scan under a CONTINUOUS_SCAN rule; how many. */
async function rescanContinuous(env: Env, db: Database): Promise<number> {
  const configuration = await readScanningConfiguration(db);
  if (!configuration.rules.some((rule) => rule.scanFrequency === "CONTINUOUS_SCAN")) return 0;
  const messages: { body: ScanMessage }[] = (await listCompletedScans(db))
    .filter((scan) => scanningFor(configuration, scan.repository, false).scanFrequency === "CONTINUOUS_SCAN")
    .map((scan) => ({ body: { kind: "rematch", repository: scan.repository, digest: scan.digest } }));
  for (let at = 0; at < messages.length; at += SEND_BATCH)
    await env.SCAN_QUEUE.sendBatch(messages.slice(at, at + SEND_BATCH));
  return messages.length;
}
