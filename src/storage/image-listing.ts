/**
 * D1 reads behind the web pages' image lists (src/console/): a repository's images, a public
 * repository's tags, one image with its children, referrers and config blob. Each page's reads
 * are one D1 batch (one round trip), so a statement that needs an earlier one's rows repeats
 * its selection as a subquery instead of waiting for it. Newest first, paged by (push time, key).
 */
import { and, asc, count, eq, sql, type SQL } from "drizzle-orm";
import type { ManifestBodyRow } from "./image-records";
import { jsonStrings, type Database } from "./database";
import { manifests, repositories, tags, type RepositoryRow } from "./schema";
import type { RepositoryAccessFacts } from "./repository-records";
import { INDEX_TYPES } from "../oci/media-types";

/** Where a page starts: after the row pushed at `pushedAt` with this key (digest or tag). */
export interface PageCursor {
  pushedAt: number;
  key: string;
}

/** The most tags a row of a list carries (its `tagCount` says how many there are). */
export const LISTED_TAGS_PER_IMAGE = 20;
/** The most tags, referrers or parent indexes the image page reads. */
export const DETAIL_LIST_LIMIT = 200;

/** A manifest as the pages list it; `body` is read only where it is needed (see bodyWhenNeeded). */
export interface ListedImage extends ManifestBodyRow {
  size: number;
  artifactType: string | null;
  subject: string | null;
  pushedAt: number;
  lastPulledAt: number | null;
  pullCount: number;
  childDigests: string[];
  /** Up to LISTED_TAGS_PER_IMAGE on lists, DETAIL_LIST_LIMIT on the image page, in tag order. */
  tags: string[];
  tagCount: number;
}

interface RawListedImage extends Omit<ListedImage, "childDigests" | "tags"> {
  childDigests: string;
  tags: string;
}

function toListedImage(raw: RawListedImage): ListedImage {
  return { ...raw, childDigests: jsonStrings(raw.childDigests), tags: jsonStrings(raw.tags) };
}

/**
 * A raw SELECT as a drizzle select of its named columns: drizzle's raw statements (db.all) cannot
 * join a D1 batch when they bind parameters (they have no prepared statement), its selects can.
 */
function selectFrom<T extends object>(db: Database, columns: readonly (keyof T & string)[], query: SQL) {
  const fields = Object.fromEntries(columns.map((column) => [column, sql`q.${sql.identifier(column)}`])) as {
    [K in keyof T]: SQL<T[K]>;
  };
  return db.select(fields).from(sql`(${query}) AS q`);
}

const LISTED_COLUMNS = [
  "digest",
  "mediaType",
  "size",
  "artifactType",
  "subject",
  "pushedAt",
  "lastPulledAt",
  "pullCount",
  "imageSize",
  "childDigests",
  "tags",
  "tagCount",
  "body",
] as const satisfies readonly (keyof RawListedImage)[];

const SOURCE_COLUMNS = [
  "digest",
  "mediaType",
  "imageSize",
  "body",
] as const satisfies readonly (keyof ManifestBodyRow)[];

const INDEX_TYPE_LIST = sql.join(
  [...INDEX_TYPES].map((type) => sql`${type}`),
  sql`, `,
);

/**
 * An index's bytes (its children's platforms are in it) and an image's whose row predates the
 * stored size (the size is computed from them); never the bytes of every image on a page.
 */
function bodyWhenNeeded(alias: string): SQL {
  const m = sql.raw(alias);
  return sql`CASE WHEN ${m}.media_type IN (${INDEX_TYPE_LIST}) OR ${m}.image_size IS NULL THEN ${m}.body END`;
}

function imageColumns(tagLimit: number): SQL {
  return sql`
    m.digest AS digest, m.media_type AS mediaType, m.size AS size, m.artifact_type AS artifactType,
    m.subject AS subject, m.pushed_at AS pushedAt, m.last_pulled_at AS lastPulledAt, m.pull_count AS pullCount,
    m.image_size AS imageSize, m.child_digests AS childDigests,
    (SELECT json_group_array(t.tag) FROM (SELECT tag FROM tags WHERE repository = m.repository AND digest = m.digest ORDER BY tag LIMIT ${tagLimit}) t) AS tags,
    (SELECT count(*) FROM tags WHERE repository = m.repository AND digest = m.digest) AS tagCount`;
}

/** Rows of `manifests` a size or platform needs (ManifestBodyRow), whose digests `digests` selects. */
function sourcesIn(repository: string, digests: SQL): SQL {
  return sql`
    SELECT c.digest AS digest, c.media_type AS mediaType, c.image_size AS imageSize, ${bodyWhenNeeded("c")} AS body
    FROM manifests c WHERE c.repository = ${repository} AND c.digest IN (${digests})`;
}

function sourceMap(
  images: readonly ManifestBodyRow[],
  sources: readonly ManifestBodyRow[],
): Map<string, ManifestBodyRow> {
  return new Map([...images, ...sources].map((row) => [row.digest, row]));
}

function afterCursor(pushedAt: SQL, key: SQL, cursor: PageCursor | null): SQL {
  if (cursor === null) return sql`1 = 1`;
  return sql`(${pushedAt} < ${cursor.pushedAt} OR (${pushedAt} = ${cursor.pushedAt} AND ${key} > ${cursor.key}))`;
}

// ---- a repository's images ----------------------------------------------------------------

export interface RepositoryImagePage {
  repository: RepositoryRow | undefined;
  /** Up to `limit` images, newest push first. */
  images: ListedImage[];
  /** The rows sizing the images reads (their children, by digest), the images' own included. */
  sources: Map<string, ManifestBodyRow>;
}

/**
 * A page of the repository's images: with `all` false, only the images a user pushed by name
 * (neither a child of an index in the repository nor a referrer such as a signature), which
 * the image page then lists under their parent or subject.
 */
export async function readRepositoryImagePage(
  db: Database,
  repository: string,
  options: { all: boolean; cursor: PageCursor | null; limit: number },
): Promise<RepositoryImagePage> {
  const topLevel = options.all
    ? sql`1 = 1`
    : sql`m.subject IS NULL AND m.digest NOT IN (
        SELECT j.value FROM manifests p, json_each(p.child_digests) j
        WHERE p.repository = ${repository} AND p.child_digests != '[]')`;
  const page = sql`
    SELECT ${imageColumns(LISTED_TAGS_PER_IMAGE)}, ${bodyWhenNeeded("m")} AS body FROM manifests m
    WHERE m.repository = ${repository} AND ${topLevel} AND ${afterCursor(sql`m.pushed_at`, sql`m.digest`, options.cursor)}
    ORDER BY m.pushed_at DESC, m.digest LIMIT ${options.limit}`;
  const [repositoryRows, images, sources] = await db.batch([
    db.select().from(repositories).where(eq(repositories.name, repository)),
    selectFrom<RawListedImage>(db, LISTED_COLUMNS, page).orderBy(sql`q.pushedAt DESC, q.digest`),
    selectFrom<ManifestBodyRow>(
      db,
      SOURCE_COLUMNS,
      sourcesIn(repository, sql`SELECT j.value FROM (${page}) p, json_each(p.childDigests) j`),
    ),
  ]);
  const listed = images.map(toListedImage);
  return { repository: repositoryRows[0], images: listed, sources: sourceMap(listed, sources) };
}

// ---- a public repository's tags -----------------------------------------------------------

/** A tag with the manifest it names. */
export interface ListedTag extends ManifestBodyRow {
  tag: string;
  pushedAt: number;
  childDigests: string[];
}

export interface TagListPage {
  facts: RepositoryAccessFacts | undefined;
  tagCount: number;
  /** Up to `limit` tags, the newest pushed manifest first, then by tag. */
  tags: ListedTag[];
  sources: Map<string, ManifestBodyRow>;
}

export async function readTagListPage(
  db: Database,
  repository: string,
  cursor: PageCursor | null,
  limit: number,
): Promise<TagListPage> {
  const page = sql`
    SELECT t.tag AS tag, m.digest AS digest, m.media_type AS mediaType, m.pushed_at AS pushedAt,
      m.image_size AS imageSize, m.child_digests AS childDigests, ${bodyWhenNeeded("m")} AS body
    FROM tags t JOIN manifests m ON m.repository = t.repository AND m.digest = t.digest
    WHERE t.repository = ${repository} AND ${afterCursor(sql`m.pushed_at`, sql`t.tag`, cursor)}
    ORDER BY m.pushed_at DESC, t.tag LIMIT ${limit}`;
  const [factRows, totals, rows, sources] = await db.batch([
    db
      .select({ policy: repositories.policy, tags: repositories.tags })
      .from(repositories)
      .where(eq(repositories.name, repository)),
    db.select({ total: count() }).from(tags).where(eq(tags.repository, repository)),
    selectFrom<Omit<ListedTag, "childDigests"> & { childDigests: string }>(
      db,
      ["tag", "digest", "mediaType", "pushedAt", "imageSize", "childDigests", "body"],
      page,
    ).orderBy(sql`q.pushedAt DESC, q.tag`),
    selectFrom<ManifestBodyRow>(
      db,
      SOURCE_COLUMNS,
      sourcesIn(repository, sql`SELECT j.value FROM (${page}) p, json_each(p.childDigests) j`),
    ),
  ]);
  const listed = rows.map((row) => ({ ...row, childDigests: jsonStrings(row.childDigests) }));
  return {
    facts: factRows[0],
    tagCount: totals[0]?.total ?? 0,
    tags: listed,
    sources: sourceMap(listed, sources),
  };
}

// ---- one image ----------------------------------------------------------------------------

/** A manifest that refers to the image (a signature, an SBOM, an attestation). */
export interface ReferrerSummary {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  pushedAt: number;
}

/** A child of an index, with what its row says. */
export interface ChildImage extends ManifestBodyRow {
  size: number;
  artifactType: string | null;
}

/** The repository's link of the image's config blob (found through the manifest's bytes). */
export interface ConfigBlobLink {
  digest: string;
  size: number;
  objectKey: string;
}

export interface ImageDetail {
  repository: RepositoryRow | undefined;
  /** With its bytes when they are in the row (null when kept in R2). */
  image: ListedImage | undefined;
  children: ChildImage[];
  referrers: ReferrerSummary[];
  /** Indexes of the repository that list the image. */
  parents: string[];
  config: ConfigBlobLink | undefined;
}

export async function readImageDetail(db: Database, repository: string, digest: string): Promise<ImageDetail> {
  const [repositoryRows, images, children, referrers, parents, configs] = await db.batch([
    db.select().from(repositories).where(eq(repositories.name, repository)),
    selectFrom<RawListedImage>(
      db,
      LISTED_COLUMNS,
      sql`SELECT ${imageColumns(DETAIL_LIST_LIMIT)}, m.body AS body FROM manifests m
        WHERE m.repository = ${repository} AND m.digest = ${digest}`,
    ),
    selectFrom<ChildImage>(
      db,
      ["digest", "mediaType", "size", "artifactType", "imageSize", "body"],
      sql`
      SELECT c.digest AS digest, c.media_type AS mediaType, c.size AS size, c.artifact_type AS artifactType,
        c.image_size AS imageSize, ${bodyWhenNeeded("c")} AS body
      FROM manifests c WHERE c.repository = ${repository} AND c.digest IN (
        SELECT j.value FROM manifests m, json_each(m.child_digests) j WHERE m.repository = ${repository} AND m.digest = ${digest})`,
    ),
    db
      .select({
        digest: manifests.digest,
        mediaType: manifests.mediaType,
        size: manifests.size,
        artifactType: manifests.artifactType,
        pushedAt: manifests.pushedAt,
      })
      .from(manifests)
      .where(and(eq(manifests.repository, repository), eq(manifests.subject, digest)))
      .orderBy(asc(manifests.pushedAt), asc(manifests.digest))
      .limit(DETAIL_LIST_LIMIT),
    selectFrom<{ digest: string }>(
      db,
      ["digest"],
      sql`SELECT m.digest AS digest FROM manifests m, json_each(m.child_digests) j
        WHERE m.repository = ${repository} AND m.child_digests != '[]' AND j.value = ${digest}
        ORDER BY m.digest LIMIT ${DETAIL_LIST_LIMIT}`,
    ).orderBy(sql`q.digest`),
    // The config's digest is read from the inline bytes (json_valid first: a row is never trusted).
    selectFrom<ConfigBlobLink>(
      db,
      ["digest", "size", "objectKey"],
      sql`SELECT b.digest AS digest, b.size AS size, b.object_key AS objectKey
        FROM manifests m JOIN repository_blobs b ON b.repository = m.repository
          AND b.digest = CASE WHEN json_valid(m.body) THEN json_extract(m.body, '$.config.digest') END
        WHERE m.repository = ${repository} AND m.digest = ${digest} AND m.body IS NOT NULL`,
    ),
  ]);
  const image = images[0];
  return {
    repository: repositoryRows[0],
    image: image === undefined ? undefined : toListedImage(image),
    children,
    referrers,
    parents: parents.map((row) => row.digest),
    config: configs[0],
  };
}
