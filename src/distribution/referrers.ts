/**
 * Referrers resource: `GET /v2/<name>/referrers/<digest>` lists the manifests whose `subject`
 * is the digest, as an OCI image index, optionally filtered by `artifactType`, paginated.
 * The subject itself need not exist.
 */
import type { AppContext } from "../app-env";
import { findManifestByDigest, listReferrers, type ReferrerRow } from "../storage/manifest-records";
import { ANNOTATIONS_IN_MANIFEST, readManifestBytes } from "./manifests";
import { MediaType } from "./media-types";
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
  const rows = await listReferrers(c.get("db"), name, subject.digest, artifactType, page.last, page.limit + 1);
  const { items, link } = pageOf(rows, page, (row) => row.digest, url);
  const manifests: ReferrerDescriptor[] = [];
  for (const row of items) {
    const descriptor: ReferrerDescriptor = { mediaType: row.mediaType, digest: row.digest, size: row.size };
    if (row.artifactType !== null) descriptor.artifactType = row.artifactType;
    const annotations = await annotationsOf(c, name, row);
    if (annotations !== null) descriptor.annotations = annotations;
    manifests.push(descriptor);
  }
  const headers = new Headers({ "Content-Type": MediaType.OCI_INDEX });
  if (artifactType !== null) headers.set("OCI-Filters-Applied", "artifactType");
  if (link) headers.set("Link", link);
  return new Response(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests }), { status: 200, headers });
}

/** A referrer's annotations: from its row, or from the manifest when too large for the row. */
async function annotationsOf(c: AppContext, name: string, row: ReferrerRow): Promise<Record<string, string> | null> {
  if (row.annotations === null) return null;
  if (row.annotations !== ANNOTATIONS_IN_MANIFEST) return JSON.parse(row.annotations) as Record<string, string>;
  const manifest = await findManifestByDigest(c.get("db"), name, row.digest);
  const text = manifest ? await readManifestBytes(c, manifest) : null;
  if (text === null) return null;
  const parsed = JSON.parse(text) as { annotations?: Record<string, string> };
  return parsed.annotations ?? null;
}
