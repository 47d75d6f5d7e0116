/**
 * The admin API's job routes and how it shows records: `POST /admin/jobs/run` runs every
 * scheduled job now (the cron's own list) and says what each did; times are ISO 8601 strings
 * and a repository's resource tags a JSON object, never epoch milliseconds or JSON in a string.
 */
import { describe, expect, it } from "vitest";
import { ecr, ecrCall } from "../support/ecr";
import { call, pushImage, randomBytes } from "../support/registry";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface JobResult {
  job: string;
  ok: boolean;
  durationMs: number;
  summary: string;
  report: { startedAt: string; imagesExpired?: number; linksRemoved?: number };
}

async function json<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

describe("POST /admin/jobs/run", () => {
  it("runs lifecycle expiry, then garbage collection, now, and reports each", async () => {
    const name = "jobs/app";
    const older = await pushImage(name, "v1", { layers: [randomBytes(64)] });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const newer = await pushImage(name, "v2", { layers: [randomBytes(64)] });
    await ecr("PutLifecyclePolicy", {
      repositoryName: name,
      lifecyclePolicyText: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 },
            action: { type: "expire" },
          },
        ],
      }),
    });

    const { jobs } = await json<{ jobs: JobResult[] }>(await call("POST", "/admin/jobs/run"));
    expect(jobs.map((job) => [job.job, job.ok])).toEqual([
      ["lifecycle", true],
      ["garbage-collection", true],
      ["advisories", true],
      ["audit", true],
      ["replication", true],
      ["events", true],
    ]);
    expect(jobs[0]?.summary).toBe("1 repository with a policy, 2 images evaluated, 1 expired (sweep complete)");
    expect(jobs[0]?.report.imagesExpired).toBe(1);
    expect(jobs[1]?.summary).toMatch(
      /^\d+ blob links? removed, \d+ objects? marked, \d+ deleted \(\d+ bytes? reclaimed; sweep complete\)$/,
    );
    expect(jobs[2]?.summary).toBe("0 sources: 0 records fetched, 0 imported");
    expect(jobs[3]?.summary).toMatch(/^\d+ records? exported in \d+ objects?, 0 deleted past retention \(caught up\)$/);
    expect(jobs[4]?.summary).toMatch(
      /^0 items attempted: 0 complete, 0 to retry, 0 failed \(0 bytes copied, 1 subrequest; backlog drained\)$/,
    );
    // The pushes and the expiry recorded events; with no subscription they go nowhere.
    expect(jobs[5]?.summary).toMatch(
      /^\d+ events? fanned out to 0 deliveries, 0 overdue re-sent, 0 pruned past retention$/,
    );
    for (const job of jobs) expect(job.report.startedAt).toMatch(ISO);
    // One job by name; an unknown name is refused before anything runs.
    const one = await json<{ jobs: JobResult[] }>(await call("POST", "/admin/jobs/run?job=replication"));
    expect(one.jobs.map((job) => job.job)).toEqual(["replication"]);
    const unknown = await call("POST", "/admin/jobs/run?job=replication&job=nightly");
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toMatch(/no scheduled job is named nightly/);

    expect((await call("GET", `/v2/${name}/manifests/${older.digest}`)).status).toBe(404);
    expect((await call("GET", `/v2/${name}/manifests/${newer.digest}`)).status).toBe(200);

    // What the last runs did, with ISO times.
    const last = await json<{
      lifecycle: { startedAt: string; imagesExpired: number };
      garbageCollection: { startedAt: string };
    }>(await call("GET", "/admin/jobs"));
    expect(last.lifecycle.startedAt).toMatch(ISO);
    expect(last.lifecycle.imagesExpired).toBe(1);
    expect(last.garbageCollection.startedAt).toMatch(ISO);

    // The expiry on the audit trail, in CloudTrail's shape (the pushes and the policy are there too).
    const { events } = await json<{
      events: {
        eventName: string;
        eventTime: string;
        userIdentity: Record<string, unknown>;
        additionalEventData: { imageDigest: string; pushedAt: string };
      }[];
    }>(await call("GET", `/admin/audit-events?repository=${name}&eventName=ExpireImage`));
    expect(events).toHaveLength(1);
    expect(events[0]?.eventName).toBe("ExpireImage");
    expect(events[0]?.userIdentity).toEqual({ type: "AWSService", invokedBy: "lifecycle-policy" });
    expect(events[0]?.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(events[0]?.additionalEventData.imageDigest).toBe(older.digest);
    expect(events[0]?.additionalEventData.pushedAt).toMatch(ISO);
  });

  it("needs registry:RunScheduledJobs", async () => {
    expect((await call("POST", "/admin/jobs/run", { anonymous: true })).status).toBe(401);
  });
});

describe("admin records", () => {
  it("shows a user's creation time as ISO 8601", async () => {
    await json(
      await call("POST", "/admin/users", {
        body: JSON.stringify({ name: "iso-user" }),
        headers: { "Content-Type": "application/json" },
      }),
      201,
    );
    const user = await json<{ createdAt: string }>(await call("GET", "/admin/users/iso-user"));
    expect(user.createdAt).toMatch(ISO);
  });

  it("has no repository routes: repositories are managed through the ECR API", async () => {
    for (const [method, path] of [
      ["PUT", "/admin/repositories/team-a/app"],
      ["GET", "/admin/repositories/team-a/app"],
      ["PUT", "/admin/repository-policies/team-a/app"],
      ["GET", "/admin/repository-policies/team-a/app"],
      ["DELETE", "/admin/repository-policies/team-a/app"],
    ] as const) {
      const response = await call(method, path, {
        body: method === "PUT" ? "{}" : null,
        headers: { "Content-Type": "application/json" },
      });
      await response.body?.cancel();
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    expect((await ecrCall("DescribeRepositories", { repositoryNames: ["team-a/app"] })).type).toBe(
      "RepositoryNotFoundException",
    );
  });
});
