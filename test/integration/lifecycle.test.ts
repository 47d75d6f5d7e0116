/**
 * Lifecycle policies end to end inside workerd: the ECR actions, the preview, and the
 * scheduled run through the Worker's scheduled handler, deciding the same as the preview and
 * auditing each expiry.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { runLifecycle } from "../../src/lifecycle/run";
import { repositoryObject } from "../../src/repository/stub";
import { database } from "../../src/storage/database";
import { queryAuditRecords } from "../../src/storage/audit-records";
import { ecr, ecrCall } from "../support/ecr";
import { call, pushImage, randomBytes } from "../support/registry";

const DAY = 24 * 60 * 60 * 1000;

async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "*/15 * * * *", scheduledTime: Date.now() }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function age(name: string, digest: string, days: number): Promise<void> {
  await env.DB.prepare("UPDATE manifests SET pushed_at = ? WHERE repository = ? AND digest = ?")
    .bind(Date.now() - days * DAY, name, digest)
    .run();
}

/** Pushes an image under a temporary tag, then removes the tag: an untagged image. */
async function pushUntagged(name: string, extra?: Record<string, unknown>): Promise<string> {
  const { digest } = await pushImage(name, "tmp", { layers: [randomBytes(64)], extra });
  expect((await call("DELETE", `/v2/${name}/manifests/tmp`)).status).toBe(202);
  return digest;
}

async function digestsIn(name: string): Promise<Set<string>> {
  const rows = await env.DB.prepare("SELECT digest FROM manifests WHERE repository = ?")
    .bind(name)
    .all<{ digest: string }>();
  return new Set(rows.results.map((row) => row.digest));
}

const POLICY = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: "untagged after 14 days",
      selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 14 },
      action: { type: "expire" },
    },
    {
      rulePriority: 2,
      description: "keep 2 prod",
      selection: { tagStatus: "tagged", tagPrefixList: ["prod"], countType: "imageCountMoreThan", countNumber: 2 },
      action: { type: "expire" },
    },
  ],
});

describe("lifecycle policies", () => {
  it("previews, then expires the same images on the scheduled run, with an audit record each", async () => {
    const name = "lifecycle/app";
    await ecr("CreateRepository", { repositoryName: name });
    const u20 = await pushUntagged(name);
    const u15 = await pushUntagged(name);
    const u1 = await pushUntagged(name);
    const u20Size = Number((await call("HEAD", `/v2/${name}/manifests/${u20}`)).headers.get("Content-Length"));
    const signature = await pushUntagged(name, {
      subject: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: u20, size: u20Size },
    });
    const prod: string[] = [];
    for (let i = 1; i <= 4; i++) prod.push((await pushImage(name, `prod-${i}`, { layers: [randomBytes(64)] })).digest);
    const dev = (await pushImage(name, "dev-1", { layers: [randomBytes(64)] })).digest;
    await age(name, u20, 20);
    await age(name, u15, 15);
    await age(name, u1, 1);
    await age(name, signature, 1);
    for (const [index, digest] of prod.entries()) await age(name, digest, 10 - index);
    await age(name, dev, 100);

    await ecr("PutLifecyclePolicy", { repositoryName: name, lifecyclePolicyText: POLICY });
    expect((await ecr("StartLifecyclePolicyPreview", { repositoryName: name })).status).toBe("COMPLETE");
    const preview = await ecr("GetLifecyclePolicyPreview", { repositoryName: name });
    const previewed = new Map(
      (preview.previewResults as { imageDigest: string; appliedRulePriority?: number }[]).map((r) => [
        r.imageDigest,
        r.appliedRulePriority,
      ]),
    );
    const expected = new Map([
      [u20, 1],
      [u15, 1],
      [signature, 1],
      [prod[0]!, 2],
      [prod[1]!, 2],
    ]);
    expect(previewed).toEqual(expected);
    expect(preview.summary).toEqual({ expiringImageTotalCount: 5 });
    expect(await digestsIn(name)).toContain(u20); // a preview deletes nothing

    await runCron();
    const left = await digestsIn(name);
    for (const digest of expected.keys()) expect(left.has(digest), digest).toBe(false);
    expect([...left].sort()).toEqual([u1, prod[2]!, prod[3]!, dev].sort());
    expect(
      (
        await call("GET", `/v2/${name}/manifests/prod-4`, {
          headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call("GET", `/v2/${name}/manifests/prod-1`, {
          headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
        })
      ).status,
    ).toBe(404);

    const audit = await queryAuditRecords(database(env.DB), { repository: name, action: "ExpireImage", limit: 100 });
    expect(new Map(audit.map((e) => [e.digest, e.detail.rulePriority]))).toEqual(expected);
    expect(audit.every((e) => e.actor === "lifecycle-policy" && e.action === "ExpireImage")).toBe(true);
    const policy = await ecr("GetLifecyclePolicy", { repositoryName: name });
    expect(policy.lastEvaluatedAt).toBeTypeOf("number");

    const jobs = await (
      await call("GET", "/admin/jobs")
    ).json<{ lifecycle: { imagesExpired: number; repositories: number } }>();
    expect(jobs.lifecycle.imagesExpired).toBeGreaterThanOrEqual(5);
    const storage = await (
      await call("GET", "/admin/storage")
    ).json<{ repositories: { repository: string; blobs: number; bytes: number }[] }>();
    expect(storage.repositories.find((r) => r.repository === name)?.bytes).toBeGreaterThan(0);
  });

  it("spares an image whose tags changed after the evaluation", async () => {
    const name = "lifecycle/race";
    await ecr("CreateRepository", { repositoryName: name });
    const digest = await pushUntagged(name);
    const { bytes } = await pushImage(name, "keep", { layers: [randomBytes(10)] });
    // Tag the untagged image after it was "evaluated" as untagged.
    const manifest = await call("GET", `/v2/${name}/manifests/${digest}`, {
      headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(
      (
        await call("PUT", `/v2/${name}/manifests/late-tag`, {
          body: await manifest.arrayBuffer(),
          headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
        })
      ).status,
    ).toBe(201);
    expect(bytes.length).toBeGreaterThan(0);
    expect(await repositoryObject(env, name).expireImages(name, [{ digest, tags: [], rulePriority: 1 }])).toEqual([]);
    expect(await digestsIn(name)).toContain(digest);
    expect(
      await repositoryObject(env, name).expireImages(name, [{ digest, tags: ["late-tag"], rulePriority: 1 }]),
    ).toEqual([digest]);
  });

  it("resumes a sweep across runs from its cursor", async () => {
    const names = ["lifecycle/sweep-a", "lifecycle/sweep-b", "lifecycle/sweep-c"];
    for (const name of names) {
      await ecr("CreateRepository", { repositoryName: name });
      await age(name, await pushUntagged(name), 30);
      await ecr("PutLifecyclePolicy", { repositoryName: name, lifecyclePolicyText: POLICY });
    }
    // Other tests' repositories may have policies too: run with no time budget (one repository per run) until the sweep completes.
    const seen: string[] = [];
    for (let run = 0; run < 50; run++) {
      const before = new Map(await Promise.all(names.map(async (n) => [n, (await digestsIn(n)).size] as const)));
      const report = await runLifecycle(env, { budgetMs: 0 });
      expect(report.repositories).toBe(1);
      for (const name of names) if ((await digestsIn(name)).size < before.get(name)!) seen.push(name);
      if (report.sweepComplete) break;
    }
    expect(seen).toEqual(names);
  });

  it("answers ECR's exceptions", async () => {
    const name = "lifecycle/errors";
    await ecr("CreateRepository", { repositoryName: name });
    expect((await ecrCall("GetLifecyclePolicy", { repositoryName: name })).type).toBe(
      "LifecyclePolicyNotFoundException",
    );
    expect((await ecrCall("DeleteLifecyclePolicy", { repositoryName: name })).type).toBe(
      "LifecyclePolicyNotFoundException",
    );
    expect((await ecrCall("StartLifecyclePolicyPreview", { repositoryName: name })).type).toBe(
      "LifecyclePolicyNotFoundException",
    );
    expect((await ecrCall("GetLifecyclePolicyPreview", { repositoryName: name })).type).toBe(
      "LifecyclePolicyPreviewNotFoundException",
    );
    const bad = await ecrCall("PutLifecyclePolicy", {
      repositoryName: name,
      lifecyclePolicyText: POLICY.replace('"countNumber":14', '"countNumber":0'),
    });
    expect(bad.status).toBe(400);
    expect(bad.type).toBe("InvalidParameterException");
    expect(String(bad.body.message)).toContain("countNumber must be a positive integer");
    expect(
      (await ecrCall("PutLifecyclePolicy", { repositoryName: "lifecycle/none", lifecyclePolicyText: POLICY })).type,
    ).toBe("RepositoryNotFoundException");

    await ecr("PutLifecyclePolicy", { repositoryName: name, lifecyclePolicyText: POLICY });
    await env.DB.prepare(
      "INSERT INTO lifecycle_previews (repository, status, policy_text, results, started_at) VALUES (?, 'IN_PROGRESS', ?, NULL, ?)",
    )
      .bind(name, POLICY, Date.now())
      .run();
    const busy = await ecrCall("StartLifecyclePolicyPreview", { repositoryName: name });
    expect(busy.type).toBe("LifecyclePolicyPreviewInProgressException");
    expect((await ecr("GetLifecyclePolicyPreview", { repositoryName: name })).status).toBe("IN_PROGRESS");
    await env.DB.prepare("UPDATE lifecycle_previews SET started_at = ? WHERE repository = ?")
      .bind(Date.now() - 10 * 60 * 1000, name)
      .run();
    expect((await ecr("StartLifecyclePolicyPreview", { repositoryName: name })).status).toBe("COMPLETE");
    const deleted = await ecr("DeleteLifecyclePolicy", { repositoryName: name });
    expect(deleted.lifecyclePolicyText).toBe(POLICY);
  });
});
