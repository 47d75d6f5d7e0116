/**
 * Replication to a regional replica: the replica bucket receives the blob content of the image
 * (configs and layers, and manifests too large for their D1 row), each under its content
 * address (src/storage/keys.ts), copied R2 to R2 without buffering. D1 already holds the
 * image's metadata for every region, so nothing else is written.
 */
import { parseDigest } from "../oci/grammar";
import { canonicalBlobKey, manifestKey } from "../storage/keys";
import { COPY_PART_BYTES, copyObject, SINGLE_PUT_MAX_BYTES } from "../storage/r2-copy";
import type { OperationBudget } from "./budget";
import type { ImageContent } from "./content";

export type RegionalOutcome = { status: "complete"; bytesCopied: number } | { status: "source-missing" };

/** The most R2 calls copying `content` can take (the run checks it fits before starting). */
export function regionalCost(content: ImageContent): number {
  let operations = 0;
  for (const blob of content.blobs.values()) operations += objectCost(blob.size);
  for (const manifest of [content.manifest, ...content.children])
    if (manifest.body === null) operations += objectCost(manifest.size);
  return operations;
}

function objectCost(size: number): number {
  return size <= SINGLE_PUT_MAX_BYTES ? 4 : 4 + 2 * Math.ceil(size / COPY_PART_BYTES);
}

export async function replicateToRegion(
  home: R2Bucket,
  replica: R2Bucket,
  content: ImageContent,
  budget: OperationBudget,
): Promise<RegionalOutcome> {
  const copies: { from: string; to: string; digest: string }[] = [];
  for (const [digest, blob] of content.blobs) {
    const parsed = parseDigest(digest);
    if (parsed !== null) copies.push({ from: blob.objectKey, to: canonicalBlobKey(parsed), digest });
  }
  for (const manifest of [...content.children, content.manifest]) {
    const parsed = parseDigest(manifest.digest);
    if (manifest.body === null && parsed !== null)
      copies.push({ from: manifestKey(parsed), to: manifestKey(parsed), digest: manifest.digest });
  }
  let bytesCopied = 0;
  for (const copy of copies) {
    const digest = parseDigest(copy.digest);
    if (digest === null) continue;
    const result = await copyObject(home, copy.from, replica, copy.to, digest);
    budget.spend(result.operations);
    if (result.status === "source-missing") return { status: "source-missing" };
    if (result.status === "copied") bytesCopied += result.bytes;
  }
  return { status: "complete", bytesCopied };
}
