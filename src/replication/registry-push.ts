/**
 * Replication to another registry: the image is pushed as a client would push it, in the order
 * a registry needs: blobs first (each only if the destination lacks it), then the manifests an
 * index lists, then the image's manifest under its tag. A referrer's subject is pushed before
 * the referrer. A tag the destination keeps immutable at another digest is not moved: the image
 * arrives without it (by digest), as ECR replicates onto an immutable tag.
 */
import { readManifestBytes } from "../images/manifests";
import type { Database } from "../storage/database";
import type { OperationBudget } from "./budget";
import { loadImageContent, type ImageContent } from "./content";
import type { RegistryDestination } from "./destinations";
import { RegistryPushClient, ReplicationAttemptError, type RangeReader } from "./registry-client";

export interface RegistryPushResult {
  bytesCopied: number;
  /** False when the tag was immutable at the destination and the image went by digest alone. */
  tagged: boolean;
}

/** The most subrequests pushing `content` can take (the run checks it fits before starting). */
export function registryCost(content: ImageContent, destination: RegistryDestination): number {
  let operations = 3;
  const chunk = destination.chunkBytes;
  for (const blob of content.blobs.values()) operations += 5 + (chunk === null ? 0 : 2 * Math.ceil(blob.size / chunk));
  return operations + 2 * (content.children.length + 2);
}

export async function replicateToRegistry(
  blobs: R2Bucket,
  db: Database,
  destination: RegistryDestination,
  repository: string,
  tag: string | null,
  content: ImageContent,
  budget: OperationBudget,
): Promise<RegistryPushResult> {
  const client = new RegistryPushClient(destination, repository, budget);
  await client.authenticate();
  const subject = content.manifest.subject;
  if (subject !== null) {
    const subjectContent = await loadImageContent(db, repository, subject, budget);
    // A subject deleted since: the referrer still goes (registries accept a missing subject).
    if (subjectContent !== null) await pushImage(client, blobs, budget, subjectContent, null);
  }
  const tagged = await pushImage(client, blobs, budget, content, tag);
  return { bytesCopied: client.bytesSent, tagged };
}

async function pushImage(
  client: RegistryPushClient,
  blobs: R2Bucket,
  budget: OperationBudget,
  content: ImageContent,
  tag: string | null,
): Promise<boolean> {
  for (const [digest, blob] of content.blobs) {
    if (await client.hasBlob(digest)) continue;
    await client.uploadBlob(digest, blob.size, rangeReader(blobs, blob.objectKey, budget));
  }
  for (const child of content.children) {
    await client.putManifest(child.digest, child.mediaType, await manifestBytes(blobs, child, budget));
  }
  const bytes = await manifestBytes(blobs, content.manifest, budget);
  if (tag !== null && (await client.putManifest(tag, content.manifest.mediaType, bytes))) return true;
  await client.putManifest(content.manifest.digest, content.manifest.mediaType, bytes);
  return tag === null;
}

function rangeReader(blobs: R2Bucket, key: string, budget: OperationBudget): RangeReader {
  return async (offset, length) => {
    if (length === 0) return new Uint8Array(0);
    budget.spend(1);
    const object = await blobs.get(key, { range: { offset, length } });
    if (object === null) throw new ReplicationAttemptError("SOURCE_IMAGE_DELETED", `${key} is no longer stored`);
    return object.body;
  };
}

async function manifestBytes(
  blobs: R2Bucket,
  manifest: { digest: string; body: string | null },
  budget: OperationBudget,
): Promise<Uint8Array> {
  if (manifest.body !== null) return new TextEncoder().encode(manifest.body);
  budget.spend(1);
  const stored = await readManifestBytes(blobs, manifest);
  if (stored === null)
    throw new ReplicationAttemptError("SOURCE_IMAGE_DELETED", `manifest ${manifest.digest} is no longer stored`);
  return typeof stored === "string" ? new TextEncoder().encode(stored) : new Uint8Array(await stored.arrayBuffer());
}
