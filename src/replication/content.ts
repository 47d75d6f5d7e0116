/**
 * What replicating one image copies: its manifest, the manifests an index lists (to any depth),
 * and the blobs they reference, with where each blob's bytes are in the home bucket. Read from
 * D1 in one query per index level plus one for the blob links.
 */
import { findBlobLinks, type BlobLocation } from "../storage/blob-links";
import type { Database } from "../storage/database";
import type { OperationBudget } from "./budget";
import { findManifestContents, type ManifestContent } from "../storage/replication-records";

/** Nested indexes deeper than this are not followed (no real image nests more than twice). */
const MAX_DEPTH = 8;

export interface ImageContent {
  /** The image's manifest first, then the manifests it lists, children before their parents last. */
  manifest: ManifestContent;
  /** Every manifest an index lists, deepest first: the order a destination must receive them. */
  children: ManifestContent[];
  /** Every blob of the image (configs and layers of all its manifests), by digest. */
  blobs: Map<string, BlobLocation>;
}

/** The image's content, or null when it (or any part of it) is no longer in the repository. */
export async function loadImageContent(
  db: Database,
  repository: string,
  digest: string,
  budget: OperationBudget,
): Promise<ImageContent | null> {
  const levels: ManifestContent[][] = [];
  const seen = new Set<string>();
  let wanted = [digest];
  for (let depth = 0; wanted.length > 0; depth += 1) {
    if (depth > MAX_DEPTH) return null;
    budget.spend(1);
    const found = await findManifestContents(db, repository, wanted);
    if (found.size !== wanted.length) return null;
    const level = wanted.map((want) => found.get(want)!);
    levels.push(level);
    for (const want of wanted) seen.add(want);
    wanted = [...new Set(level.flatMap((manifest) => manifest.childDigests))].filter((child) => !seen.has(child));
  }
  const [top, ...below] = levels;
  const manifest = top?.[0];
  if (manifest === undefined) return null;
  const children = below.reverse().flat();
  const blobDigests = [...new Set([manifest, ...children].flatMap((entry) => entry.blobDigests))];
  budget.spend(1);
  const blobs = await findBlobLinks(db, repository, blobDigests);
  if (blobs.size !== blobDigests.length) return null;
  return { manifest, children, blobs };
}
