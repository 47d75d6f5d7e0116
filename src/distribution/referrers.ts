/**
 * Referrers resource: `GET /v2/<name>/referrers/<digest>` lists the manifests whose `subject`
 * is the digest, as an OCI image index, optionally filtered by `artifactType`, paginated.
 * The subject itself need not exist. Entries of a referrers-tag-schema index (tag
 * `<alg>-<hex>`, pushed by clients that predate the API) are merged in, as the spec requires.
 */
import type { AppContext } from "../app-env";
import {
  findManifestByDigest,
  findManifestByTag,
  listReferrers,
  type ReferrerRow,
  type StoredManifest,
} from "../storage/manifest-records";
import { ANNOTATIONS_IN_MANIFEST, readManifestText } from "../images/manifests";
import { INDEX_TYPES, MediaType } from "../oci/media-types";
import { pageOf, readPageRequest } from "./pagination";
import { requireDigest } from "./validate";

interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export async function getReferrers(c: AppContext, name: string, digestParam: string): Promise<Response> {
  const subject = requireDigest(digestParam);
  const url = new URL(c.req.url);
  const page = readPageRequest(url.searchParams);
  const artifactType = url.searchParams.get("artifactType") || null;
  const db = c.get("db");
  const [rows, fallback] = await Promise.all([
    listReferrers(db, name, subject.digest, artifactType, page.last, page.limit + 1),
    findManifestByTag(db, name, `${subject.algorithm}-${subject.hex}`),
  ]);
  const found: ReferrerDescriptor[] = [];
  for (const row of rows) {
    const descriptor: ReferrerDescriptor = { mediaType: row.mediaType, digest: row.digest, size: row.size };
    if (row.artifactType !== null) descriptor.artifactType = row.artifactType;
    const annotations = await annotationsOf(c, name, row);
    if (annotations !== null) descriptor.annotations = annotations;
    found.push(descriptor);
  }
  if (fallback) {
    const known = new Set(found.map((d) => d.digest));
    for (const entry of await tagSchemaEntries(c, fallback)) {
      if (known.has(entry.digest) || (page.last !== null && entry.digest <= page.last)) continue;
      if (artifactType !== null && entry.artifactType !== artifactType) continue;
      found.push(entry);
    }
    found.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  }
  const { items: manifests, link } = pageOf(found, page, (descriptor) => descriptor.digest, url);
  const headers = new Headers({ "Content-Type": MediaType.OCI_INDEX });
  if (artifactType !== null) headers.set("OCI-Filters-Applied", "artifactType");
  if (link) headers.set("Link", link);
  return new Response(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests }), {
    status: 200,
    headers,
  });
}

/** A referrer's annotations: from its row, or from the manifest when too large for the row. */
async function annotationsOf(c: AppContext, name: string, row: ReferrerRow): Promise<Record<string, string> | null> {
  if (row.annotations === null) return null;
  if (row.annotations !== ANNOTATIONS_IN_MANIFEST) return JSON.parse(row.annotations) as Record<string, string>;
  const manifest = await findManifestByDigest(c.get("db"), name, row.digest);
  const text = manifest ? await readManifestText(c.env.BLOBS, manifest) : null;
  if (text === null) return null;
  const parsed = JSON.parse(text) as { annotations?: Record<string, string> };
  return parsed.annotations ?? null;
}

/** The descriptors of a referrers-tag-schema index; anything else under that tag adds none. */
async function tagSchemaEntries(c: AppContext, manifest: StoredManifest): Promise<ReferrerDescriptor[]> {
  if (!INDEX_TYPES.has(manifest.mediaType)) return [];
  const text = await readManifestText(c.env.BLOBS, manifest);
  if (text === null) return [];
  const index = JSON.parse(text) as { manifests?: unknown };
  if (!Array.isArray(index.manifests)) return [];
  return index.manifests.filter(
    (entry): entry is ReferrerDescriptor =>
      typeof entry === "object" && entry !== null && typeof (entry as ReferrerDescriptor).digest === "string",
  );
}
