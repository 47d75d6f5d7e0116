/**
 * Blob links with the media type the repository's manifests give each blob, for ECR's
 * BatchCheckLayerAvailability: a blob's link records no media type, its descriptor in the
 * manifests that reference it (as config or as a layer) does.
 */
import { sql } from "drizzle-orm";
import type { Database } from "./database";

export interface LayerRecord {
  size: number;
  /** The media type of the latest pushed manifest of the repository referencing the blob; null if none does. */
  mediaType: string | null;
}

/**
 * The links of `digests` in `repository`, each with its media type. One query: the repository's
 * manifests listing a wanted digest in `blob_digests` are read once, and the descriptor's
 * `mediaType` is taken from the manifest body with SQLite's JSON functions. Manifests kept in R2
 * (bodies over 1 MiB, src/images/manifests.ts) have no body here and are not consulted.
 */
export async function findLayerRecords(
  db: Database,
  repository: string,
  digests: readonly string[],
): Promise<Map<string, LayerRecord>> {
  if (digests.length === 0) return new Map();
  const rows = await db.all<{ digest: string; size: number; media_type: string | null }>(sql`
    WITH wanted(digest) AS (SELECT DISTINCT value FROM json_each(${JSON.stringify(digests)})),
    referencing AS (
      SELECT j.value AS digest, m.pushed_at AS pushed_at, m.rowid AS seq,
        -- Every JSON function below reads this guarded body, never the raw column.
        CASE WHEN json_valid(m.body) THEN m.body ELSE '{}' END AS body
      FROM manifests m, json_each(m.blob_digests) j
      WHERE m.repository = ${repository} AND m.body IS NOT NULL AND j.value IN (SELECT digest FROM wanted)
    ),
    typed AS (
      SELECT r.digest, r.pushed_at, r.seq, coalesce(
        CASE WHEN json_extract(r.body, '$.config.digest') = r.digest THEN json_extract(r.body, '$.config.mediaType') END,
        (SELECT json_extract(l.value, '$.mediaType') FROM json_each(r.body, '$.layers') l
          WHERE l.type = 'object' AND json_extract(l.value, '$.digest') = r.digest LIMIT 1)
      ) AS media_type
      FROM referencing r
    ),
    -- The latest push wins; rows pushed in the same millisecond are ordered by insertion.
    latest AS (
      SELECT digest, media_type FROM (
        SELECT digest, media_type, row_number() OVER (PARTITION BY digest ORDER BY pushed_at DESC, seq DESC) AS n
        FROM typed WHERE media_type IS NOT NULL
      ) WHERE n = 1
    )
    SELECT b.digest, b.size, latest.media_type
    FROM repository_blobs b LEFT JOIN latest ON latest.digest = b.digest
    WHERE b.repository = ${repository} AND b.digest IN (SELECT digest FROM wanted)`);
  return new Map(
    rows.map((row) => [
      row.digest,
      { size: row.size, mediaType: typeof row.media_type === "string" ? row.media_type : null },
    ]),
  );
}
