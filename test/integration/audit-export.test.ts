/**
 * The audit job (src/audit/export.ts): the trail goes from D1 to R2 as NDJSON objects of
 * CloudTrail records under `audit-trail/`, the same records the admin API finds; a cursor makes
 * every record land in exactly one object, even across an interrupted run; records past the
 * retention are deleted only once exported; garbage collection never touches the trail.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runAuditExport } from "../../src/audit/export";
import { settingsOf } from "../../src/config/load";
import { runGarbageCollection } from "../../src/gc/collect";
import { recordAuditEvents, type AuditEvent } from "../../src/storage/audit-records";
import { database } from "../../src/storage/database";
import { AUDIT_TRAIL_PREFIX } from "../../src/storage/keys";
import { findAuditExportCursor, putAuditExportCursor } from "../../src/storage/registry-settings";
import { ecr, ecrCall } from "../support/ecr";
import { call } from "../support/registry";

const DAY_MS = 24 * 60 * 60 * 1000;

interface TrailRecord {
  eventID: string;
  eventName: string;
  eventTime: string;
  userIdentity: Record<string, unknown>;
  resources: { ARN: string }[];
  errorCode?: string;
}

interface TrailObject {
  key: string;
  contentType: string | undefined;
  text: string;
  records: TrailRecord[];
}

interface AuditJobResult {
  job: string;
  ok: boolean;
  summary: string;
  report: { exported: number; objects: number; lastKey: string | null; deleted: number; caughtUp: boolean };
}

async function json<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** Every object under audit-trail/, in key order, with its records parsed line by line. */
async function trailObjects(bucket: R2Bucket = env.BLOBS): Promise<TrailObject[]> {
  const objects: TrailObject[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: AUDIT_TRAIL_PREFIX, ...(cursor === undefined ? {} : { cursor }) });
    for (const listed of page.objects) {
      const object = await bucket.get(listed.key);
      if (object === null) throw new Error(`${listed.key} was listed but is gone`);
      const text = await object.text();
      const lines = text.split("\n");
      // One record a line, each line ended by a newline.
      expect(lines.pop()).toBe("");
      objects.push({
        key: listed.key,
        contentType: object.httpMetadata?.contentType,
        text,
        records: lines.map((line) => JSON.parse(line) as TrailRecord),
      });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  return objects;
}

/** The ids `<first>-<last>` a trail object's key names. */
function idsOf(key: string): [number, number] {
  const match = /_(\d+)-(\d+)\.ndjson$/.exec(key);
  if (match === null) throw new Error(`${key} names no ids`);
  return [Number(match[1]), Number(match[2])];
}

/**
 * Waits until D1 holds `count` records of `action`: requests write theirs after the response.
 * D1 is read directly, not through the admin API, whose queries are recorded themselves.
 */
async function waitForRecords(action: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const row = await env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE action = ?")
      .bind(action)
      .first<{ n: number }>();
    if ((row?.n ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`${count} records of ${action} were not written within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function runAuditJob(): Promise<AuditJobResult> {
  const { jobs } = await json<{ jobs: AuditJobResult[] }>(await call("POST", "/admin/jobs/run?job=audit"));
  expect(jobs.map((job) => [job.job, job.ok])).toEqual([["audit", true]]);
  return jobs[0]!;
}

/** A record as a job would store it, at `at`. */
/** A job's record (what recordAuditEvents stores), at `at`. */
function jobRecord(at: number, action: string): AuditEvent {
  return { at, actor: "test-job", action, repository: null, digest: null, detail: {} };
}

async function storedIds(): Promise<number[]> {
  const rows = await env.DB.prepare("SELECT id FROM audit_events ORDER BY id").all<{ id: number }>();
  return rows.results.map((row) => row.id);
}

describe("audit export to R2", () => {
  it("writes the trail as NDJSON objects under CloudTrail's key layout: the records the admin API finds", async () => {
    const settings = settingsOf(env);
    const { accountId, region } = settings.auth;
    await ecr("CreateRepository", { repositoryName: "audit/one" });
    await ecr("CreateRepository", { repositoryName: "audit/two" });
    expect((await ecrCall("DescribeRepositories", { repositoryNames: ["audit/none"] })).type).toBe(
      "RepositoryNotFoundException",
    );
    await json(
      await call("POST", "/admin/users", {
        body: JSON.stringify({ name: "audit-user" }),
        headers: { "Content-Type": "application/json" },
      }),
      201,
    );
    await waitForRecords("CreateRepository", 2);
    await waitForRecords("DescribeRepositories", 1);
    await waitForRecords("iam:CreateUser", 1);

    const result = await runAuditJob();
    const objects = await trailObjects();
    expect(objects).toHaveLength(1);
    const [object] = objects as [TrailObject];
    expect(result.report).toEqual({
      startedAt: expect.any(String) as unknown,
      exported: object.records.length,
      objects: 1,
      lastKey: object.key,
      deleted: 0,
      caughtUp: true,
    });
    expect(result.summary).toBe(
      `${object.records.length} records exported in 1 object, 0 deleted past retention (caught up)`,
    );
    expect(object.contentType).toBe("application/x-ndjson");

    // audit-trail/<account>/<region>/YYYY/MM/DD/<account>_AuditTrail_<region>_<first record's time>_<ids>.ndjson
    const first = object.records[0]!;
    const [, year, month, dayOfMonth, time] = /^(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d)Z$/.exec(first.eventTime) ?? [];
    expect(object.key).toBe(
      `audit-trail/${accountId}/${region}/${year}/${month}/${dayOfMonth}/${accountId}_AuditTrail_${region}_${year}${month}${dayOfMonth}T${time?.replaceAll(":", "")}Z_${idsOf(object.key).join("-")}.ndjson`,
    );
    const [firstId, lastId] = idsOf(object.key);
    expect(lastId - firstId + 1).toBe(object.records.length);
    expect((await findAuditExportCursor(database(env.DB))).exportedThrough).toBe(lastId);

    // The calls made (each written after its response: not necessarily in the order made).
    const names = object.records.map((record) => record.eventName);
    expect(names.toSorted()).toEqual([
      "CreateRepository",
      "CreateRepository",
      "DescribeRepositories",
      "iam:CreateUser",
    ]);
    expect(object.records.flatMap((record) => record.resources.map((resource) => resource.ARN)).toSorted()).toEqual(
      ["audit/one", "audit/two"].map((name) => `arn:aws:ecr:${region}:${accountId}:repository/${name}`),
    );
    expect(object.records.find((record) => record.eventName === "DescribeRepositories")?.errorCode).toBe(
      "RepositoryNotFoundException",
    );

    // The admin API lists the same records, newest first, with those written since (the job's
    // own call) on top: the oldest ones are exactly the exported ones, field for field.
    const { events } = await json<{ events: TrailRecord[] }>(await call("GET", "/admin/audit-events?maxResults=1000"));
    const oldestFirst = events.toReversed();
    expect(oldestFirst.slice(0, object.records.length)).toEqual(object.records);
    const exportedIds = new Set(object.records.map((record) => record.eventID));
    expect(new Set(oldestFirst.slice(0, object.records.length).map((event) => event.eventID))).toEqual(exportedIds);
    const since = oldestFirst.slice(object.records.length);
    expect(
      since.every((event) => event.eventName === "registry:RunScheduledJobs" && !exportedIds.has(event.eventID)),
    ).toBe(true);
    await waitForRecords("cloudtrail:LookupEvents", 1);
  });

  it("exports each record once: a second run only what came since, a run with nothing new writes nothing", async () => {
    await ecr("CreateRepository", { repositoryName: "audit/again" });
    await waitForRecords("CreateRepository", 1);
    const firstRun = await runAuditJob();
    expect(firstRun.report.objects).toBe(1);

    // The second run finds the first run's own call, and nothing it exported before.
    await waitForRecords("registry:RunScheduledJobs", 1);
    const secondRun = await runAuditJob();
    expect(secondRun.report.objects).toBe(1);
    expect(secondRun.report.exported).toBe(1);
    expect(idsOf(secondRun.report.lastKey!)[0]).toBe(idsOf(firstRun.report.lastKey!)[1] + 1);

    // Once the second call is recorded and exported, a run has nothing to do.
    await waitForRecords("registry:RunScheduledJobs", 2);
    const settings = settingsOf(env);
    expect((await runAuditExport(env, settings)).exported).toBe(1);
    const idle = await runAuditExport(env, settings);
    expect(idle).toEqual({
      startedAt: expect.any(Number) as unknown,
      exported: 0,
      objects: 0,
      lastKey: null,
      deleted: 0,
      caughtUp: true,
    });

    const objects = await trailObjects();
    expect(objects).toHaveLength(3);
    const ranges = objects.map((object) => idsOf(object.key)).sort(([a], [b]) => a - b);
    for (let at = 1; at < ranges.length; at++) expect(ranges[at]![0]).toBe(ranges[at - 1]![1] + 1);
    const ids = objects.flatMap((object) => object.records.map((record) => record.eventID));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(await env.DB.prepare("SELECT count(*) AS n FROM audit_events").first<number>("n"));
  });

  it("pages by the budget, and reports that it continues next run", async () => {
    const db = database(env.DB);
    const now = Date.now();
    await recordAuditEvents(
      db,
      [1, 2, 3, 4, 5].map((n) => jobRecord(now + n, `Step${n}`)),
    );
    const settings = settingsOf(env);
    const partial = await runAuditExport(env, settings, { pageSize: 2, maxObjects: 2 });
    expect([partial.exported, partial.objects, partial.caughtUp]).toEqual([4, 2, false]);
    const rest = await runAuditExport(env, settings, { pageSize: 2, maxObjects: 2 });
    expect([rest.exported, rest.objects, rest.caughtUp]).toEqual([1, 1, true]);
    const objects = await trailObjects();
    expect(objects.map((object) => object.records.map((record) => record.eventName))).toEqual([
      ["Step1", "Step2"],
      ["Step3", "Step4"],
      ["Step5"],
    ]);
  });

  it("writes the same object again after a run stopped before moving its cursor, never a record twice", async () => {
    const db = database(env.DB);
    const settings = settingsOf(env);
    const now = Date.now();
    await recordAuditEvents(
      db,
      [1, 2, 3].map((n) => jobRecord(now + n, `Before${n}`)),
    );
    const interrupted = await runAuditExport(env, settings);
    expect(interrupted.objects).toBe(1);
    // As if the run had stopped after writing its object: the cursor where it was before.
    await putAuditExportCursor(db, 0, Date.now());
    await recordAuditEvents(
      db,
      [4, 5].map((n) => jobRecord(now + n, `After${n}`)),
    );

    const resumed = await runAuditExport(env, settings);
    expect([resumed.exported, resumed.objects, resumed.caughtUp]).toEqual([5, 2, true]);
    const objects = await trailObjects();
    expect(objects.map((object) => object.key)).toContain(interrupted.lastKey);
    expect(objects.map((object) => object.records.map((record) => record.eventName))).toEqual([
      ["Before1", "Before2", "Before3"],
      ["After4", "After5"],
    ]);
  });

  it("deletes records past the retention only once they are exported", async () => {
    const db = database(env.DB);
    const settings = settingsOf(env);
    const expired = Date.now() - settings.auditRetentionMs - DAY_MS;
    await recordAuditEvents(db, [
      jobRecord(expired, "Old1"),
      jobRecord(expired + 1, "Old2"),
      jobRecord(expired + 2, "Old3"),
      jobRecord(Date.now(), "Recent"),
    ]);
    const [old1, old2, old3, recent] = await storedIds();

    // The budget stops the export after Old1 and Old2: Old3 is past the retention too, but stays.
    const partial = await runAuditExport(env, settings, { pageSize: 2, maxObjects: 1 });
    expect([partial.exported, partial.deleted, partial.caughtUp]).toEqual([2, 2, false]);
    expect(await storedIds()).toEqual([old3, recent]);
    // What was deleted is in R2, dated by its own time.
    const [written] = await trailObjects();
    expect(written?.records.map((record) => record.eventName)).toEqual(["Old1", "Old2"]);
    expect(written?.key).toContain(`/${new Date(expired).toISOString().slice(0, 10).replaceAll("-", "/")}/`);
    expect(idsOf(written!.key)).toEqual([old1, old2]);

    // Old3 goes once exported; the recent record is exported and kept.
    const rest = await runAuditExport(env, settings);
    expect([rest.exported, rest.deleted, rest.caughtUp]).toEqual([2, 1, true]);
    expect(await storedIds()).toEqual([recent]);
    const names = (await trailObjects()).flatMap((object) => object.records.map((record) => record.eventName));
    expect(names).toEqual(["Old1", "Old2", "Old3", "Recent"]);
  });

  it("is never collected: garbage collection and the replica sweep leave audit-trail/ alone", async () => {
    const db = database(env.DB);
    const settings = settingsOf(env);
    await recordAuditEvents(db, [jobRecord(Date.now(), "Kept")]);
    const { lastKey } = await runAuditExport(env, settings);
    // Unreferenced content in both buckets, which a run with no grace period deletes...
    const stray = `blobs/sha256/${"ab".repeat(32)}`;
    await env.BLOBS.put(stray, "stray");
    await env.BLOBS_EU_WEST_1.put(stray, "stray");
    // ...and a trail object in the replica too, though the export writes only to the home bucket.
    await env.BLOBS_EU_WEST_1.put(lastKey!, "{}\n");

    const report = await runGarbageCollection(env, {
      graceMs: 0,
      replicas: [{ region: "eu-west-1", bucket: env.BLOBS_EU_WEST_1 }],
    });
    expect(report.objectsDeleted).toBe(1);
    expect(report.replicaObjectsDeleted).toBe(1);
    expect(await env.BLOBS.head(stray)).toBeNull();
    expect(await env.BLOBS_EU_WEST_1.head(stray)).toBeNull();
    expect((await trailObjects()).map((object) => object.key)).toEqual([lastKey]);
    expect((await trailObjects(env.BLOBS_EU_WEST_1)).map((object) => object.key)).toEqual([lastKey]);
  });
});
