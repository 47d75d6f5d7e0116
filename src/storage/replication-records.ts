/**
 * D1 access to replication work (the replication_items table, src/storage/schema.ts): what the
 * status actions read. The rows are written with the manifest, by the repository's Durable
 * Object, and drained by the replication cron.
 */
import { and, asc, eq } from "drizzle-orm";
import type { Database } from "./database";
import { replicationItems } from "./schema";

export interface ReplicationStatusRow {
  registryId: string;
  region: string;
  status: "IN_PROGRESS" | "COMPLETE" | "FAILED";
  failureCode: string | null;
}

/** The image's replication to each destination, in the order the work was recorded. */
export async function findReplicationStatuses(
  db: Database,
  repository: string,
  digest: string,
): Promise<ReplicationStatusRow[]> {
  return db
    .select({
      registryId: replicationItems.registryId,
      region: replicationItems.region,
      status: replicationItems.status,
      failureCode: replicationItems.failureCode,
    })
    .from(replicationItems)
    .where(and(eq(replicationItems.repository, repository), eq(replicationItems.digest, digest)))
    .orderBy(asc(replicationItems.id));
}
