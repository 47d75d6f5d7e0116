/**
 * `GET /admin/audit-events` (src/admin/audit.ts): filters by action, principal, repository,
 * result and time; pages of maxResults newest first, followed with nextToken without a record
 * twice; malformed parameters are 400 INVALID_REQUEST; the query needs credentials and
 * cloudtrail:LookupEvents, and is on the trail itself.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { queryTrail, recordOf, trackSecrets, waitForTrail, type TrailEvent, type TrailPage } from "../support/audit";
import { ecrCall, type EcrResult } from "../support/ecr";
import {
  adminAuthorization,
  allowPolicy,
  bearerAuthorization,
  createUser,
  expectError,
  fetchToken,
  userArnOf,
  type TestUser,
} from "../support/registry";

const ADMIN_ARN = userArnOf("admin");

const ledger = trackSecrets([env.REGISTRY_ADMIN_SECRET_ACCESS_KEY, adminAuthorization()]);

async function createRepositoryAs(name: string, user?: TestUser): Promise<EcrResult> {
  return ecrCall(
    "CreateRepository",
    { repositoryName: name },
    user === undefined ? undefined : { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
  );
}

async function page(parameters: Record<string, string>, authorization?: string): Promise<TrailPage> {
  const response = await queryTrail(parameters, authorization);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as TrailPage;
}

function requestIds(events: TrailEvent[]): (string | null)[] {
  return events.map((event) => event.requestID);
}

describe("filters", () => {
  it("by action, principal, repository and result", async () => {
    const user = await createUser("audit-query-user", allowPolicy(["ecr:CreateRepository"]));
    ledger.remember(user.secretAccessKey, user.authorization);
    const a = await createRepositoryAs("audit-q/a");
    const b = await createRepositoryAs("audit-q/b");
    const c = await createRepositoryAs("audit-q/c", user);
    const failed = await createRepositoryAs("audit-q/a", user);
    expect([a.status, b.status, c.status, failed.type]).toEqual([200, 200, 200, "RepositoryAlreadyExistsException"]);
    // Newest first.
    const creates = await waitForTrail(
      { eventName: "CreateRepository" },
      (events) => events.length >= 4,
      "the CreateRepository calls",
    );
    expect(requestIds(creates)).toEqual([failed.requestId, c.requestId, b.requestId, a.requestId]);

    const byUser = await waitForTrail({ principal: user.arn }, (events) => events.length >= 2, "the user's calls");
    expect(requestIds(byUser)).toEqual([failed.requestId, c.requestId]);
    expect(byUser.every((event) => event.userIdentity.arn === user.arn)).toBe(true);

    const byAdmin = await page({ principal: ADMIN_ARN, eventName: "CreateRepository" });
    expect(requestIds(byAdmin.events)).toEqual([b.requestId, a.requestId]);

    const inA = await page({ repository: "audit-q/a" });
    expect(requestIds(inA.events)).toEqual([failed.requestId, a.requestId]);

    const errors = await page({ result: "error" });
    expect(errors.events.length).toBeGreaterThan(0);
    expect(errors.events.every((event) => event.errorCode !== undefined)).toBe(true);
    expect(requestIds(errors.events)).toContain(failed.requestId);

    const successes = await page({ result: "success", eventName: "CreateRepository" });
    expect(requestIds(successes.events)).toEqual([c.requestId, b.requestId, a.requestId]);
    expect(successes.events.every((event) => event.errorCode === undefined)).toBe(true);

    const byCode = await page({ result: "RepositoryAlreadyExistsException" });
    expect(requestIds(byCode.events)).toEqual([failed.requestId]);

    // Filters that match nothing find nothing.
    expect((await page({ principal: userArnOf("nobody") })).events).toEqual([]);
    expect((await page({ repository: "audit-q/none" })).events).toEqual([]);
    expect((await page({ eventName: "NoSuchAction" })).events).toEqual([]);
  });

  it("by startTime and endTime, as ISO 8601 times or epoch seconds, both inclusive", async () => {
    const before = await createRepositoryAs("audit-t/before");
    await recordOf(before.requestId);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const between = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = await createRepositoryAs("audit-t/after");
    await recordOf(after.requestId);

    const eventName = "CreateRepository";
    const iso = new Date(between).toISOString();
    const seconds = (between / 1000).toFixed(3);
    for (const startTime of [iso, seconds]) {
      expect(requestIds((await page({ eventName, startTime })).events), startTime).toEqual([after.requestId]);
    }
    for (const endTime of [iso, seconds]) {
      expect(requestIds((await page({ eventName, endTime })).events), endTime).toEqual([before.requestId]);
    }
    const both = await page({ eventName, startTime: "2000-01-01T00:00:00Z", endTime: new Date().toISOString() });
    expect(requestIds(both.events)).toEqual([after.requestId, before.requestId]);
    expect((await page({ eventName, startTime: String(Math.ceil(Date.now() / 1000) + 60) })).events).toEqual([]);
  });
});

describe("pages", () => {
  it("maxResults=2 and nextToken walk every record once, newest first", async () => {
    const created: (string | null)[] = [];
    for (let i = 0; i < 5; i++) created.push((await createRepositoryAs(`audit-p/repo-${i}`)).requestId);
    await waitForTrail({ eventName: "CreateRepository" }, (events) => events.length >= 5, "the five calls");

    const pages: TrailPage[] = [];
    let nextToken: string | undefined;
    do {
      const next = await page({
        eventName: "CreateRepository",
        maxResults: "2",
        ...(nextToken === undefined ? {} : { nextToken }),
      });
      pages.push(next);
      nextToken = next.nextToken;
    } while (nextToken !== undefined && pages.length < 10);
    expect(pages.map((p) => p.events.length)).toEqual([2, 2, 1]);
    expect(pages.map((p) => p.nextToken === undefined)).toEqual([false, false, true]);
    const walked = pages.flatMap((p) => requestIds(p.events));
    expect(walked).toEqual([...created].reverse());
    const eventIds = pages.flatMap((p) => p.events.map((event) => event.eventID));
    expect(new Set(eventIds).size).toBe(5);
    // A page exactly as long as what is left has no token: nothing would follow.
    expect((await page({ eventName: "CreateRepository", maxResults: "5" })).nextToken).toBeUndefined();
  });
});

describe("bad parameters", () => {
  it("are 400 INVALID_REQUEST", async () => {
    const malformed: Record<string, string>[] = [
      { maxResults: "0" },
      { maxResults: "1001" },
      { maxResults: "2.5" },
      { maxResults: "many" },
      { nextToken: "abc" },
      { nextToken: "0" },
      { nextToken: "-3" },
      { startTime: "garbage" },
      { endTime: "yesterday-ish" },
      { principal: "p".repeat(1025) },
    ];
    for (const parameters of malformed) {
      const body = await expectError(await queryTrail(parameters), 400, "INVALID_REQUEST");
      // The message names the parameter.
      expect(body.errors[0]?.message, JSON.stringify(parameters)).toContain(Object.keys(parameters)[0]);
    }
  });
});

describe("authorization", () => {
  it("anonymous is 401 (and not recorded), a token is 401, no policy is 403, cloudtrail:LookupEvents is 200", async () => {
    const anonymous = await queryTrail({}, null);
    await expectError(anonymous, 401, "UNAUTHORIZED");
    const token = await fetchToken(["repository:audit/any:pull"], adminAuthorization());
    ledger.remember(token);
    await expectError(await queryTrail({}, bearerAuthorization(token)), 401, "UNAUTHORIZED");

    const nobody = await createUser("audit-query-nobody");
    const auditor = await createUser("audit-query-auditor", allowPolicy(["cloudtrail:LookupEvents"]));
    ledger.remember(nobody.secretAccessKey, nobody.authorization, auditor.secretAccessKey, auditor.authorization);
    const refused = await queryTrail({}, nobody.authorization);
    await expectError(refused, 403, "DENIED");
    const allowed = await page({ principal: nobody.arn }, auditor.authorization);
    // The refusal is on the trail, as the query's action.
    const refusal = allowed.events.find((event) => event.requestID === refused.headers.get("x-amzn-RequestId"));
    expect(refusal).toMatchObject({
      eventName: "cloudtrail:LookupEvents",
      eventSource: "registry-admin",
      errorCode: "DENIED",
      readOnly: true,
      userIdentity: { arn: nobody.arn, accessKeyId: nobody.accessKeyId },
    });
    expect(allowed.events.every((event) => event.requestID !== anonymous.headers.get("x-amzn-RequestId"))).toBe(true);
    // The auditor's own queries are recorded too.
    const lookups = await waitForTrail({ principal: auditor.arn }, (events) => events.length > 0, "the lookup");
    expect(lookups[0]).toMatchObject({
      eventName: "cloudtrail:LookupEvents",
      requestParameters: { path: "/admin/audit-events" },
    });
  });
});

describe("the stored records", () => {
  it("hold none of the secrets used in this file, nor anything shaped like a token or a webhook secret", async () => {
    await ledger.scan();
  });
});
