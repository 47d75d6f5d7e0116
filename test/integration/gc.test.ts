/**
 * Garbage collection inside workerd with real D1, R2 and Durable Objects: what it reclaims,
 * and the guard that keeps a collected object from being linked again. The race of collection
 * against concurrent pushes is test/e2e/gc-race.test.ts (hundreds of requests in one test
 * slow this pool down, not the registry).
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runGarbageCollection } from "../../src/gc/collect";
import worker from "../../src/index";
import { call, digestOf, expectError, pushBlob, pushImage, randomBytes } from "../support/registry";

const ACCEPT = { Accept: "application/vnd.oci.image.manifest.v1+json" };

async function objectKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.BLOBS.list({ prefix: "blobs/", ...(cursor ? { cursor } : {}) });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

async function links(): Promise<{ repository: string; digest: string; object_key: string }[]> {
  return (
    await env.DB.prepare("SELECT repository, digest, object_key FROM repository_blobs").all<{
      repository: string;
      digest: string;
      object_key: string;
    }>()
  ).results;
}

/** Every link is referenced by a manifest of its repository, and every object under blobs/ by a link. */
async function expectNothingUnreferenced(): Promise<void> {
  const referenced = await env.DB.prepare(
    "SELECT DISTINCT m.repository AS repository, j.value AS digest FROM manifests m, json_each(m.blob_digests) j",
  ).all<{ repository: string; digest: string }>();
  const wanted = new Set(referenced.results.map((r) => `${r.repository} ${r.digest}`));
  const all = await links();
  expect(all.filter((l) => !wanted.has(`${l.repository} ${l.digest}`))).toEqual([]);
  const linkedKeys = new Set(all.map((l) => l.object_key));
  expect((await objectKeys()).filter((key) => !linkedKeys.has(key))).toEqual([]);
}

describe("garbage collection", () => {
  it("reclaims the links and objects of deleted images, through the scheduled handler, and keeps shared layers", async () => {
    const name = "gc/app";
    const shared = randomBytes(300);
    const onlyB = randomBytes(400);
    const a = await pushImage(name, "a", { layers: [shared] });
    const b = await pushImage(name, "b", { layers: [shared, onlyB] });
    const onlyBDigest = await digestOf(onlyB);
    expect((await call("DELETE", `/v2/${name}/manifests/${b.digest}`)).status).toBe(202);

    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: "*/15 * * * *", scheduledTime: Date.now() }),
      { ...env, GC_GRACE_SECONDS: "0" } as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);

    expect((await call("GET", `/v2/${name}/blobs/${onlyBDigest}`)).status).toBe(404);
    expect((await call("GET", `/v2/${name}/blobs/${await digestOf(shared)}`)).status).toBe(200);
    expect((await call("GET", `/v2/${name}/manifests/a`, { headers: ACCEPT })).status).toBe(200);
    const config = (a.manifest.config as { digest: string }).digest;
    expect((await call("GET", `/v2/${name}/blobs/${config}`)).status).toBe(200);
    await expectNothingUnreferenced();

    const jobs = await (
      await call("GET", "/admin/jobs")
    ).json<{ garbageCollection: { objectsDeleted: number; bytesReclaimed: number; linksRemoved: number } }>();
    expect(jobs.garbageCollection.linksRemoved).toBeGreaterThanOrEqual(1);
    expect(jobs.garbageCollection.objectsDeleted).toBeGreaterThanOrEqual(1);
    expect(jobs.garbageCollection.bytesReclaimed).toBeGreaterThanOrEqual(400);
    const audited = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_events WHERE actor = 'garbage-collector'",
    ).first<{ n: number }>();
    expect(audited?.n).toBe(jobs.garbageCollection.objectsDeleted);
  });

  it("leaves young links and objects alone for the grace period", async () => {
    const name = "gc/young";
    const digest = await pushBlob(name, randomBytes(100)); // linked, referenced by no manifest
    const report = await runGarbageCollection(env, { graceMs: 60 * 60 * 1000 });
    expect(report.linksRemoved).toBe(0);
    expect(report.objectsDeleted).toBe(0);
    expect((await call("GET", `/v2/${name}/blobs/${digest}`)).status).toBe(200);
  });

  it("refuses to link an object that collection claimed, or deleted after the request began", async () => {
    const name = "gc/guard";
    const bytes = randomBytes(200);
    const digest = await digestOf(bytes);
    const key = `blobs/sha256/${digest.slice("sha256:".length)}`;
    const claim = async (state: string, changedAt: number) =>
      env.DB.prepare(
        "INSERT OR REPLACE INTO gc_objects (object_key, state, marked_at, changed_at, size) VALUES (?, ?, ?, ?, 200)",
      )
        .bind(key, state, changedAt, changedAt)
        .run();

    await claim("claimed", Date.now());
    await expectError(
      await call("POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, { body: bytes }),
      400,
      "BLOB_UPLOAD_INVALID",
    );
    expect((await call("HEAD", `/v2/${name}/blobs/${digest}`)).status).toBe(404);

    await claim("deleted", Date.now() + 60_000); // deleted "after" the next request begins
    await expectError(
      await call("POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, { body: bytes }),
      400,
      "BLOB_UPLOAD_INVALID",
    );

    await claim("deleted", Date.now() - 60_000); // deleted before: the new upload wrote a fresh object
    expect((await call("POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, { body: bytes })).status).toBe(201);
    expect((await call("GET", `/v2/${name}/blobs/${digest}`)).status).toBe(200);
  });
});
