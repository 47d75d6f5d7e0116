/**
 * Replication to a regional replica (the second R2 bucket the workers tests bind as eu-west-1):
 * a push records its work in the manifest's write, the every-minute cron copies every blob of the
 * image into the replica under its content address, DescribeImageReplicationStatus follows the
 * item, and garbage collection removes the replica's copies once no repository references them.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { settingsOf } from "../../src/config/load";
import { runGarbageCollection } from "../../src/gc/collect";
import worker from "../../src/index";
import { runReplication } from "../../src/replication/run";
import { ecrCall } from "../support/ecr";
import {
  ACCOUNT_ID,
  bytesOf,
  call,
  digestOf,
  OCI_INDEX,
  pushBlob,
  pushImage,
  putManifestBytes,
  randomBytes,
} from "../support/registry";

const EU = { registryId: ACCOUNT_ID, region: "eu-west-1" };

async function configure(filters: string[] | null): Promise<void> {
  const rule =
    filters === null
      ? { destinations: [EU] }
      : { destinations: [EU], repositoryFilters: filters.map((filter) => ({ filter, filterType: "PREFIX_MATCH" })) };
  const put = await ecrCall("PutReplicationConfiguration", { replicationConfiguration: { rules: [rule] } });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
}

async function statuses(repositoryName: string, imageDigest: string): Promise<unknown> {
  const described = await ecrCall("DescribeImageReplicationStatus", { repositoryName, imageId: { imageDigest } });
  expect(described.status, JSON.stringify(described.body)).toBe(200);
  return described.body.replicationStatuses;
}

async function itemCount(repository: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM replication_items WHERE repository = ?")
    .bind(repository)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function inReplica(digest: string): Promise<Uint8Array | null> {
  const object = await env.BLOBS_EU_WEST_1.get(`blobs/${digest.replace(":", "/")}`);
  return object === null ? null : new Uint8Array(await object.arrayBuffer());
}

/** The image's config and layer digests, from its manifest. */
function blobsOf(manifest: Record<string, unknown>): string[] {
  const config = manifest.config as { digest: string };
  const layers = manifest.layers as { digest: string }[];
  return [config.digest, ...layers.map((layer) => layer.digest)];
}

async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
  await waitOnExecutionContext(ctx);
}

afterEach(async () => {
  await ecrCall("PutReplicationConfiguration", { replicationConfiguration: { rules: [] } });
});

describe("replication to a regional replica", () => {
  it("copies every blob of a pushed image on the every-minute cron and reports COMPLETE", async () => {
    const name = "regional/app";
    const before = await pushImage(name, "before");
    await configure(["regional/"]);
    const layers = [randomBytes(3000), randomBytes(5000)];
    const image = await pushImage(name, "v1", { layers });
    // Only images pushed after the configuration.
    expect(await statuses(name, before.digest)).toEqual([]);
    expect(await statuses(name, image.digest)).toEqual([{ ...EU, status: "IN_PROGRESS" }]);
    for (const digest of blobsOf(image.manifest)) expect(await inReplica(digest)).toBeNull();

    await runCron();

    expect(await statuses(name, image.digest)).toEqual([{ ...EU, status: "COMPLETE" }]);
    expect(await inReplica(await digestOf(layers[0]!))).toEqual(layers[0]);
    expect(await inReplica(await digestOf(layers[1]!))).toEqual(layers[1]);
    for (const digest of blobsOf(image.manifest)) expect(await inReplica(digest)).not.toBeNull();
    for (const digest of blobsOf(before.manifest).slice(1)) expect(await inReplica(digest)).toBeNull();
  });

  it("records work only for pushes that change something, and only for repositories the rules match", async () => {
    await configure(["regional/only"]);
    const layers = [randomBytes(100)];
    const first = await pushImage("regional/only-this", "v1", { layers });
    expect(await itemCount("regional/only-this")).toBe(1);
    // The same manifest under the same tag: nothing to replicate.
    expect((await putManifestBytes("regional/only-this", "v1", first.bytes)).status).toBe(201);
    expect((await putManifestBytes("regional/only-this", first.digest, first.bytes)).status).toBe(201);
    expect(await itemCount("regional/only-this")).toBe(1);
    // A new tag on it: the destination should receive the tag.
    expect((await putManifestBytes("regional/only-this", "v2", first.bytes)).status).toBe(201);
    expect(await itemCount("regional/only-this")).toBe(2);
    await pushImage("regional/other", "v1");
    expect(await itemCount("regional/other")).toBe(0);
  });

  it("copies the blobs of every platform of an index", async () => {
    const name = "regional/multi";
    await configure(null);
    const amd = await pushImage(name, "amd64-only");
    const arm = await pushImage(name, "arm64-only");
    const index = bytesOf(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: amd.digest,
            size: amd.bytes.length,
            platform: { architecture: "amd64", os: "linux" },
          },
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: arm.digest,
            size: arm.bytes.length,
            platform: { architecture: "arm64", os: "linux" },
          },
        ],
      }),
    );
    // The platform images' own items are drained first; their copies are then present.
    await runReplication(env, settingsOf(env));
    await env.BLOBS_EU_WEST_1.delete(
      [...blobsOf(amd.manifest), ...blobsOf(arm.manifest)].map((d) => `blobs/${d.replace(":", "/")}`),
    );
    expect((await putManifestBytes(name, "multi", index, OCI_INDEX)).status).toBe(201);
    const report = await runReplication(env, settingsOf(env));
    expect(report).toMatchObject({ attempted: 1, completed: 1, failed: 0, drained: true });
    for (const digest of [...blobsOf(amd.manifest), ...blobsOf(arm.manifest)])
      expect(await inReplica(digest)).not.toBeNull();
    expect(await statuses(name, await digestOf(index))).toEqual([{ ...EU, status: "COMPLETE" }]);
  });

  it("fails an item whose image was deleted before it was copied, with SOURCE_IMAGE_DELETED", async () => {
    const name = "regional/gone";
    await configure(null);
    const image = await pushImage(name, "v1");
    const kept = await pushImage(name, "kept");
    expect((await call("DELETE", `/v2/${name}/manifests/${image.digest}`)).status).toBe(202);
    const report = await runReplication(env, settingsOf(env));
    expect(report).toMatchObject({ attempted: 2, completed: 1, failed: 1 });
    const row = await env.DB.prepare("SELECT status, failure_code AS code FROM replication_items WHERE digest = ?")
      .bind(image.digest)
      .first();
    expect(row).toEqual({ status: "FAILED", code: "SOURCE_IMAGE_DELETED" });
    expect(await statuses(name, kept.digest)).toEqual([{ ...EU, status: "COMPLETE" }]);
  });

  it("is idempotent: a second run finds nothing due, and a run never takes an item another holds", async () => {
    const name = "regional/twice";
    await configure(null);
    await pushImage(name, "v1");
    const [first, second] = await Promise.all([
      runReplication(env, settingsOf(env)),
      runReplication(env, settingsOf(env)),
    ]);
    expect(first.attempted + second.attempted).toBe(1);
    expect(await runReplication(env, settingsOf(env))).toMatchObject({ attempted: 0, drained: true });
  });

  it("garbage collection removes replica copies no repository references, and keeps shared ones", async () => {
    const name = "regional/collect";
    await configure(null);
    const shared = randomBytes(700);
    const only = randomBytes(900);
    const a = await pushImage(name, "a", { layers: [shared] });
    const b = await pushImage(name, "b", { layers: [shared, only] });
    await runReplication(env, settingsOf(env));
    const onlyDigest = await digestOf(only);
    expect(await inReplica(onlyDigest)).not.toBeNull();
    expect((await call("DELETE", `/v2/${name}/manifests/${b.digest}`)).status).toBe(202);

    const settings = settingsOf(env);
    const report = await runGarbageCollection(env, {
      graceMs: 0,
      replicas: [{ region: "eu-west-1", bucket: env.BLOBS_EU_WEST_1 }],
    });
    expect(settings.replicaRegions).toEqual([{ region: "eu-west-1", binding: "BLOBS_EU_WEST_1" }]);
    expect(report.replicaObjectsDeleted).toBeGreaterThanOrEqual(1);
    expect(await inReplica(onlyDigest)).toBeNull();
    for (const digest of blobsOf(a.manifest)) expect(await inReplica(digest)).not.toBeNull();
    // A blob pushed but never part of a manifest is not in the replica at all.
    const loose = await pushBlob(name, randomBytes(50));
    expect(await inReplica(loose)).toBeNull();
  });
});
