/**
 * Events are recorded in the same D1 write as the change they report: one row per push,
 * delete, replication end and lifecycle expiry, in EventBridge's envelope with ECR's detail
 * fields; a refused write records none.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settingsOf } from "../../../src/config/load";
import type { EventEnvelope } from "../../../src/events/envelope";
import { runReplication } from "../../../src/replication/run";
import { ecrCall } from "../../support/ecr";
import { ADVISORIES, debianImage } from "../../support/scan-fixtures";
import { importAdvisories, pushFixture, waitForScan } from "../scanning/support";
import { ACCOUNT_ID, call, pushImage, putManifestBytes, repositoryArnOf, setImmutable } from "../../support/registry";

async function eventsOf(repository: string, detailType?: string): Promise<EventEnvelope[]> {
  const { results } = await env.DB.prepare(
    "SELECT body FROM registry_events WHERE repository = ? AND (?2 IS NULL OR detail_type = ?2) ORDER BY id",
  )
    .bind(repository, detailType ?? null)
    .all<{ body: string }>();
  return results.map((row) => JSON.parse(row.body) as EventEnvelope);
}

describe("events recorded with the change", () => {
  it("records a push in EventBridge's envelope with ECR's detail", async () => {
    const name = "team-a/events-push";
    const { digest } = await pushImage(name, "v1");
    const [event, ...more] = await eventsOf(name);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      version: "0",
      "detail-type": "ECR Image Action",
      source: "aws.ecr",
      account: ACCOUNT_ID,
      region: "us-east-1",
      resources: [],
      detail: {
        result: "SUCCESS",
        "repository-name": name,
        "image-digest": digest,
        "action-type": "PUSH",
        "image-tag": "v1",
      },
    });
    expect(event?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("records nothing for a push refused by tag immutability", async () => {
    const name = "team-a/events-immutable";
    await setImmutable(name);
    await pushImage(name, "v1");
    const before = await eventsOf(name);
    const other = new TextEncoder().encode(
      JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", layers: [] }),
    );
    expect((await putManifestBytes(name, "v1", other)).status).toBeGreaterThanOrEqual(400);
    expect(await eventsOf(name)).toEqual(before);
  });

  it("records deletes by tag (with the tag's digest), by digest and through BatchDeleteImage", async () => {
    const name = "team-a/events-delete";
    const first = await pushImage(name, "one");
    const second = await pushImage(name, "two");
    const third = await pushImage(name, "three");
    expect((await call("DELETE", `/v2/${name}/manifests/one`)).status).toBe(202);
    expect((await call("DELETE", `/v2/${name}/manifests/${second.digest}`)).status).toBe(202);
    // A second delete of the same digest changes nothing and records nothing.
    expect((await call("DELETE", `/v2/${name}/manifests/${second.digest}`)).status).toBe(404);
    const batch = await ecrCall("BatchDeleteImage", { repositoryName: name, imageIds: [{ imageTag: "three" }] });
    expect(batch.status).toBe(200);
    const deletes = (await eventsOf(name)).filter((event) => event.detail["action-type"] === "DELETE");
    expect(deletes.map((event) => [event.detail["image-digest"], event.detail["image-tag"] ?? null])).toEqual([
      [first.digest, "one"],
      [second.digest, null],
      [third.digest, "three"],
    ]);
  });

  it("records an ended replication as ECR Replication Action", async () => {
    const name = "team-a/events-replication";
    const rule = { destinations: [{ registryId: ACCOUNT_ID, region: "eu-west-1" }] };
    expect((await ecrCall("PutReplicationConfiguration", { replicationConfiguration: { rules: [rule] } })).status).toBe(
      200,
    );
    try {
      const { digest } = await pushImage(name, "r1");
      await runReplication(env, settingsOf(env));
      const [event] = await eventsOf(name, "ECR Replication Action");
      expect(event).toMatchObject({
        resources: [repositoryArnOf(name)],
        detail: {
          result: "SUCCESS",
          "repository-name": name,
          "image-digest": digest,
          "action-type": "REPLICATE",
          "image-tag": "r1",
          "source-account": ACCOUNT_ID,
          "destination-region": "eu-west-1",
        },
      });
    } finally {
      await ecrCall("PutReplicationConfiguration", { replicationConfiguration: { rules: [] } });
    }
  });

  it("records the end of a scan as ECR Image Scan with its counts and the image's tags", async () => {
    await importAdvisories(ADVISORIES);
    const name = "team-a/events-scan";
    const created = await ecrCall("CreateRepository", {
      repositoryName: name,
      imageScanningConfiguration: { scanOnPush: true },
    });
    expect(created.status).toBe(200);
    const digest = await pushFixture(name, "v1", await debianImage());
    const done = await waitForScan(name, digest);
    const counts = (done.body.imageScanFindings as { findingSeverityCounts: Record<string, number> })
      .findingSeverityCounts;
    const [event, ...more] = await eventsOf(name, "ECR Image Scan");
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      resources: [repositoryArnOf(name)],
      detail: {
        "scan-status": "COMPLETE",
        "repository-name": name,
        "image-digest": digest,
        "image-tags": ["v1"],
        "finding-severity-counts": counts,
      },
    });
  });

  it("records lifecycle expiry as ECR Lifecycle Policy Action with the rule", async () => {
    const name = "team-a/events-lifecycle";
    const old = await pushImage(name, "old-1");
    await pushImage(name, "old-2");
    const policy = {
      rules: [
        {
          rulePriority: 3,
          selection: { tagStatus: "tagged", tagPrefixList: ["old"], countType: "imageCountMoreThan", countNumber: 1 },
          action: { type: "expire" },
        },
      ],
    };
    const put = await ecrCall("PutLifecyclePolicy", {
      repositoryName: name,
      lifecyclePolicyText: JSON.stringify(policy),
    });
    expect(put.status).toBe(200);
    expect((await call("POST", "/admin/jobs/run?job=lifecycle")).status).toBe(200);
    const expiries = await eventsOf(name, "ECR Lifecycle Policy Action");
    expect(expiries.map((event) => event.detail)).toEqual([
      {
        result: "SUCCESS",
        "action-type": "EXPIRE",
        "repository-name": name,
        "image-digest": old.digest,
        "image-tags": ["old-1"],
        "rule-priority": 3,
      },
    ]);
  });
});
