/**
 * D1 reads behind ECR's image actions (DescribeImages, ListImages, BatchGetImage,
 * BatchDeleteImage): manifests with their tags, pages of image ids, tag lookups and which
 * indexes reference a manifest. Deletions are the repository's Durable Object's
 * (./repository-writes.ts).
 */
import { sql, type SQL } from "drizzle-orm";
import { inList, jsonStrings, type Database } from "./database";

export type TagStatus = "TAGGED" | "UNTAGGED" | "ANY";

/** A manifest as DescribeImages reports it. */
export interface ImageRow {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  pushedAt: number;
  imageSize: number | null;
  lastPulledAt: number | null;
  childDigests: string[];
  tags: string[];
}

interface RawImageRow extends Omit<ImageRow, "childDigests" | "tags"> {
  childDigests: string;
  tags: string;
}

const IMAGE_COLUMNS = sql`
  m.digest AS digest, m.media_type AS mediaType, m.size AS size, m.artifact_type AS artifactType,
  m.pushed_at AS pushedAt, m.image_size AS imageSize, m.last_pulled_at AS lastPulledAt,
  m.child_digests AS childDigests,
  (SELECT json_group_array(t.tag) FROM (SELECT tag FROM tags WHERE repository = m.repository AND digest = m.digest ORDER BY tag) t) AS tags`;

function tagStatusCondition(status: TagStatus): SQL {
  const tagged = sql`EXISTS (SELECT 1 FROM tags t WHERE t.repository = m.repository AND t.digest = m.digest)`;
  if (status === "TAGGED") return tagged;
  if (status === "UNTAGGED") return sql`NOT ${tagged}`;
  return sql`1 = 1`;
}

function toImageRow(raw: RawImageRow): ImageRow {
  return { ...raw, childDigests: jsonStrings(raw.childDigests), tags: jsonStrings(raw.tags) };
}

/** Images after `after` in digest order, at most `limit`. */
export async function listImageRows(
  db: Database,
  repository: string,
  after: string | null,
  limit: number,
  status: TagStatus,
): Promise<ImageRow[]> {
  const rows = await db.all<RawImageRow>(sql`
    SELECT ${IMAGE_COLUMNS} FROM manifests m
    WHERE m.repository = ${repository} AND m.digest > ${after ?? ""} AND ${tagStatusCondition(status)}
    ORDER BY m.digest LIMIT ${limit}`);
  return rows.map(toImageRow);
}

/** The images of `digests` that exist, by digest. */
export async function findImageRows(
  db: Database,
  repository: string,
  digests: readonly string[],
): Promise<Map<string, ImageRow>> {
  if (digests.length === 0) return new Map();
  const rows = await db.all<RawImageRow>(sql`
    SELECT ${IMAGE_COLUMNS} FROM manifests m
    WHERE m.repository = ${repository} AND ${inList(sql`m.digest`, digests)}`);
  return new Map(rows.map((raw) => [raw.digest, toImageRow(raw)]));
}

/** Digests the given tags point at (tags that do not exist are absent). */
export async function findTagDigests(
  db: Database,
  repository: string,
  tagNames: readonly string[],
): Promise<Map<string, string>> {
  if (tagNames.length === 0) return new Map();
  const rows = await db.all<{ tag: string; digest: string }>(sql`
    SELECT tag, digest FROM tags
    WHERE repository = ${repository} AND ${inList(sql`tag`, tagNames)}`);
  return new Map(rows.map((row) => [row.tag, row.digest]));
}

/** One entry of ListImages: a tag and its digest, or an untagged digest. */
export interface ImageIdRow {
  digest: string;
  tag: string | null;
}

/** Image ids ordered by (digest, tag), after the position `after`, at most `limit`. */
export async function listImageIdRows(
  db: Database,
  repository: string,
  after: { digest: string; tag: string } | null,
  limit: number,
  status: TagStatus,
): Promise<ImageIdRow[]> {
  const filter = status === "TAGGED" ? sql`t.tag IS NOT NULL` : status === "UNTAGGED" ? sql`t.tag IS NULL` : sql`1 = 1`;
  // An untagged image sorts as tag '' (no tag is empty), so the position is one comparison.
  return db.all<ImageIdRow>(sql`
    SELECT m.digest AS digest, t.tag AS tag FROM manifests m
    LEFT JOIN tags t ON t.repository = m.repository AND t.digest = m.digest
    WHERE m.repository = ${repository} AND (m.digest, coalesce(t.tag, '')) > (${after?.digest ?? ""}, ${after?.tag ?? ""}) AND ${filter}
    ORDER BY m.digest, coalesce(t.tag, '') LIMIT ${limit}`);
}

/** A manifest's bytes (null when kept in R2) with its media type and stored image size. */
export interface ManifestBodyRow {
  digest: string;
  mediaType: string;
  imageSize: number | null;
  body: string | null;
}

export async function findManifestBodies(
  db: Database,
  repository: string,
  digests: readonly string[],
): Promise<Map<string, ManifestBodyRow>> {
  if (digests.length === 0) return new Map();
  const rows = await db.all<ManifestBodyRow>(sql`
    SELECT digest, media_type AS mediaType, image_size AS imageSize, body FROM manifests
    WHERE repository = ${repository} AND ${inList(sql`digest`, digests)}`);
  return new Map(rows.map((row) => [row.digest, row]));
}

/** Every tag of each of `digests`. */
export async function findTagsOf(
  db: Database,
  repository: string,
  digests: readonly string[],
): Promise<Map<string, string[]>> {
  const tagsByDigest = new Map<string, string[]>(digests.map((digest) => [digest, []]));
  if (digests.length === 0) return tagsByDigest;
  const rows = await db.all<{ tag: string; digest: string }>(sql`
    SELECT tag, digest FROM tags
    WHERE repository = ${repository} AND ${inList(sql`digest`, digests)}
    ORDER BY tag`);
  for (const row of rows) tagsByDigest.get(row.digest)?.push(row.tag);
  return tagsByDigest;
}

/** For each of `digests`, the indexes in the repository that list it as a child. */
export async function findParentIndexes(
  db: Database,
  repository: string,
  digests: readonly string[],
): Promise<Map<string, string[]>> {
  const parents = new Map<string, string[]>(digests.map((digest) => [digest, []]));
  if (digests.length === 0) return parents;
  const rows = await db.all<{ parent: string; child: string }>(sql`
    SELECT m.digest AS parent, j.value AS child FROM manifests m, json_each(m.child_digests) j
    WHERE m.repository = ${repository} AND m.child_digests != '[]'
      AND ${inList(sql`j.value`, digests)}`);
  for (const row of rows) parents.get(row.child)?.push(row.parent);
  return parents;
}
