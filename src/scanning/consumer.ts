/**
 * The scanning queue's consumer. A "scan" message reads the image's layers that no earlier scan
 * read (each layer's inventory is kept by digest), as many as fit one invocation, and sends
 * itself again for the rest; once every layer is read, the inventory is merged and matched
 * against the advisory store. A "rematch" message (continuous scanning) matches the stored
 * inventory again without reading layers.
 *
 * Failures: an image this scanner cannot read (an index, a zstd layer, an unknown layer type)
 * ends UNSUPPORTED_IMAGE; a layer that is not a readable tar ends FAILED with the reason; both
 * are acknowledged, never retried. Anything else (D1 or R2 unavailable) is retried by the
 * queue, and a message that still fails lands on the dead-letter queue, whose consumer ends
 * the scan FAILED.
 */
import { settingsOf } from "../config/load";
import { imageScanEvent, originOf } from "../events/envelope";
import { announceEvents } from "../events/messages";
import { layersOfStored } from "../oci/manifest-format";
import { IMAGE_MANIFEST_TYPES } from "../oci/media-types";
import { readManifestText } from "../images/manifests";
import { findBlobLink } from "../storage/blob-links";
import { database, type Database } from "../storage/database";
import { findManifestByDigest } from "../storage/manifest-records";
import { advisoriesUpdatedAt } from "../storage/advisory-records";
import {
  completeImageScan,
  endImageScan,
  findImageScan,
  findLayerInventories,
  putLayerInventory,
} from "../storage/scan-records";
import { findingsFor } from "./findings";
import { readLayerInventory } from "./layer-inventory";
import { layerCompression, UnreadableLayerError } from "./layers";
import { mergeLayers, type ImageInventory, type LayerInventory } from "./merge";
import { parseImageInventory, parseLayerInventory } from "./stored-inventory";
import { parseScanMessage, type ScanMessage } from "./requests";

/** Compressed layer bytes one invocation reads before it hands the rest to the next message. */
const BYTES_PER_INVOCATION = 256 * 1024 * 1024;

export async function consumeScanBatch(batch: MessageBatch, env: Env): Promise<void> {
  const deadLetters = batch.queue.endsWith("-dlq");
  for (const message of batch.messages) {
    const scan = parseScanMessage(message.body);
    if (scan === null) {
      console.error("scanning: dropped a message that is not a scan", JSON.stringify(message.body).slice(0, 200));
      message.ack();
      continue;
    }
    if (deadLetters) {
      await endImageScan(
        database(env.DB),
        scan.repository,
        scan.digest,
        "FAILED",
        `The scan failed after ${message.attempts} attempts; start it again.`,
        Date.now(),
        scanEvent(env, scan.repository, scan.digest, "FAILED", {}),
      );
      await announceEvents(env.EVENT_QUEUE);
      message.ack();
      continue;
    }
    try {
      const more = await scanStep(env, scan);
      if (more) await env.SCAN_QUEUE.send(scan);
      message.ack();
    } catch (error) {
      console.error(`scanning ${scan.repository}@${scan.digest} failed; retrying`, error);
      message.retry();
    }
  }
}

type Outcome =
  | { status: "unsupported" | "failed"; reason: string }
  | { status: "inventory"; inventory: ImageInventory }
  | { status: "more" };

/** One invocation's work on a message; true when the message must be sent again for more layers. */
export async function scanStep(env: Env, message: ScanMessage): Promise<boolean> {
  const db = database(env.DB);
  const { repository, digest } = message;
  const scan = await findImageScan(db, repository, digest);
  // Deleted meanwhile (the scan went with the image), or already ended: nothing to do.
  if (scan === undefined) return false;
  if (message.kind === "scan" && scan.status !== "IN_PROGRESS") return false;
  let outcome: Outcome;
  if (message.kind === "rematch") {
    const inventory =
      scan.status === "COMPLETE" && scan.inventory !== null ? parseImageInventory(scan.inventory) : null;
    if (inventory === null) return false;
    outcome = { status: "inventory", inventory };
  } else {
    outcome = await readImage(env, db, repository, digest);
  }
  if (outcome.status === "more") return true;
  // A scan that read the image ends with an "ECR Image Scan" event; a continuous re-match does not.
  const event = (status: string, counts: Record<string, number>) =>
    message.kind === "scan" ? scanEvent(env, repository, digest, status, counts) : null;
  if (outcome.status === "inventory" && outcome.inventory.unsupported !== null) {
    await endImageScan(
      db,
      repository,
      digest,
      "UNSUPPORTED_IMAGE",
      outcome.inventory.unsupported,
      Date.now(),
      event("UNSUPPORTED_IMAGE", {}),
    );
  } else if (outcome.status !== "inventory") {
    const status = outcome.status === "unsupported" ? "UNSUPPORTED_IMAGE" : "FAILED";
    await endImageScan(db, repository, digest, status, outcome.reason, Date.now(), event(status, {}));
  } else {
    const [findings, sourceUpdatedAt] = await Promise.all([
      findingsFor(db, outcome.inventory),
      advisoriesUpdatedAt(db),
    ]);
    await completeImageScan(
      db,
      repository,
      digest,
      {
        now: Date.now(),
        sourceUpdatedAt,
        inventory: JSON.stringify(outcome.inventory),
        severityCounts: findings.severityCounts,
        findings: findings.findings,
      },
      event("COMPLETE", findings.severityCounts),
    );
  }
  if (message.kind === "scan") await announceEvents(env.EVENT_QUEUE);
  return false;
}

/** The scan's "ECR Image Scan" event; the image's tags are filled in as it is recorded. */
function scanEvent(env: Env, repository: string, digest: string, status: string, counts: Record<string, number>) {
  return imageScanEvent(
    originOf(settingsOf(env)),
    { repository, digest, tags: [], status, severityCounts: counts },
    Date.now(),
  );
}

/** Reads the layers not read yet (within this invocation's share), or the whole inventory. */
async function readImage(env: Env, db: Database, repository: string, digest: string): Promise<Outcome> {
  const manifest = await findManifestByDigest(db, repository, digest);
  if (manifest === undefined) return { status: "failed", reason: "The image no longer exists." };
  if (!IMAGE_MANIFEST_TYPES.has(manifest.mediaType))
    return {
      status: "unsupported",
      reason: `A ${manifest.mediaType} is not an image: scan the image of each platform.`,
    };
  const text = await readManifestText(env.BLOBS, manifest);
  if (text === null) return { status: "failed", reason: "The image manifest's content is missing." };
  const layers = layersOfStored(text);
  if (layers === null) return { status: "failed", reason: "The image manifest's layers cannot be read." };
  for (const layer of layers) {
    const compression = layerCompression(layer.mediaType);
    if (compression === null)
      return {
        status: "unsupported",
        reason: `Layer ${layer.digest} is a ${layer.mediaType}, not a filesystem layer this scanner reads.`,
      };
    if (compression === "zstd")
      return {
        status: "unsupported",
        reason: `Layer ${layer.digest} is compressed with zstd, which this scanner does not decode yet.`,
      };
  }
  const stored = new Map<string, LayerInventory>();
  for (const [layerDigest, text] of await findLayerInventories(
    db,
    layers.map((layer) => layer.digest),
  )) {
    const inventory = parseLayerInventory(text);
    if (inventory !== null) stored.set(layerDigest, inventory);
  }
  let budget = BYTES_PER_INVOCATION;
  for (const layer of layers) {
    if (stored.has(layer.digest)) continue;
    if (budget <= 0) return { status: "more" };
    const link = await findBlobLink(db, repository, layer.digest);
    const object: R2ObjectBody | null = link === undefined ? null : await env.BLOBS.get(link.objectKey);
    if (object === null) return { status: "failed", reason: `Layer ${layer.digest} is missing from the repository.` };
    let inventory: LayerInventory;
    try {
      // R2's body is a byte stream; its type says only ReadableStream.
      const body = object.body as ReadableStream<Uint8Array>;
      inventory = await readLayerInventory(body, layerCompression(layer.mediaType) === "gzip" ? "gzip" : "none");
    } catch (error) {
      if (error instanceof UnreadableLayerError)
        return { status: "failed", reason: `Layer ${layer.digest}: ${error.message}` };
      throw error;
    }
    await putLayerInventory(db, layer.digest, JSON.stringify(inventory), Date.now());
    stored.set(layer.digest, inventory);
    budget -= layer.size;
  }
  const inventories = layers.flatMap((layer) => stored.get(layer.digest) ?? []);
  return { status: "inventory", inventory: mergeLayers(inventories) };
}
