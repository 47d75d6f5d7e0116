/**
 * Helpers for tests of the audit trail (src/audit/): the admin query `GET /admin/audit-events`,
 * waiting for records written after the response (waitUntil), and the raw rows of D1's
 * audit_events table for scans no query filter hides.
 */
import { env } from "cloudflare:workers";
import { afterEach, expect } from "vitest";
import { adminAuthorization, call } from "./registry";

/** A record as `GET /admin/audit-events` presents it (CloudTrail's shape). */
export interface TrailEvent {
  eventVersion: string;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  userIdentity: {
    type: string;
    arn?: string;
    accountId?: string;
    userName?: string;
    accessKeyId?: string;
    invokedBy?: string;
  };
  sourceIPAddress: string | null;
  userAgent: string | null;
  /** Absent when the call succeeded. */
  errorCode?: string;
  errorMessage?: string | null;
  requestParameters: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
  requestID: string | null;
  eventID: string;
  readOnly: boolean;
  resources: { ARN: string; accountId: string; type: string }[];
}

export interface TrailPage {
  events: TrailEvent[];
  nextToken?: string;
}

/** Queries sent with credentials since the last test ended (trackSecrets waits for their records). */
let lookupsSent = 0;

/**
 * One page of `GET /admin/audit-events`, as the bootstrap admin unless `authorization` is
 * given (null: without credentials).
 */
export async function queryTrail(parameters: Record<string, string>, authorization?: string | null): Promise<Response> {
  const query = new URLSearchParams(parameters).toString();
  const path = `/admin/audit-events${query === "" ? "" : `?${query}`}`;
  if (authorization === null) return call("GET", path, { anonymous: true });
  // A query with credentials is a record itself (cloudtrail:LookupEvents), whatever its answer.
  lookupsSent += 1;
  return call("GET", path, { headers: { Authorization: authorization ?? adminAuthorization() } });
}

/** Every record the filter finds, all pages followed. */
export async function trail(parameters: Record<string, string>): Promise<TrailEvent[]> {
  const events: TrailEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const response = await queryTrail({ ...parameters, ...(nextToken === undefined ? {} : { nextToken }) });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const body = JSON.parse(text) as TrailPage;
    events.push(...body.events);
    nextToken = body.nextToken;
    if (nextToken === undefined) return events;
  }
  throw new Error("more than 100 pages of audit records");
}

const WAIT_MS = 5_000;
const POLL_MS = 25;

/**
 * The records the filter finds once `ready` holds of them: records are written after the
 * response (waitUntil), so a test polls for them, for at most WAIT_MS.
 */
export async function waitForTrail(
  parameters: Record<string, string>,
  ready: (events: TrailEvent[]) => boolean,
  what: string,
): Promise<TrailEvent[]> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const events = await trail(parameters);
    if (ready(events)) return events;
    if (Date.now() > deadline) {
      throw new Error(`no audit records for ${what} within ${WAIT_MS} ms; found ${JSON.stringify(events, null, 1)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The one record of the request whose response carried `requestId` (waiting for it). */
export async function recordOf(requestId: string | null, parameters: Record<string, string> = {}): Promise<TrailEvent> {
  expect(requestId, "the response's x-amzn-RequestId").toMatch(/^[0-9a-f-]{36}$/);
  const events = await waitForTrail(
    parameters,
    (found) => found.some((event) => event.requestID === requestId),
    `request ${requestId}`,
  );
  const matching = events.filter((event) => event.requestID === requestId);
  expect(matching, `records of request ${requestId}`).toHaveLength(1);
  return matching[0]!;
}

/** Request options from a source address (CF-Connecting-IP, as Cloudflare's edge sets it) with credentials. */
export function from(ip: string, authorization: string, extra: Record<string, string> = {}): { headers: HeadersInit } {
  return { headers: { "CF-Connecting-IP": ip, Authorization: authorization, ...extra } };
}

/** Asserts the record names the user of `arn` (and the access key, when given). */
export function expectIdentity(event: TrailEvent, arn: string, accessKeyId?: string): void {
  expect(event.userIdentity).toMatchObject({
    type: "IAMUser",
    arn,
    accountId: /^arn:aws:iam::(\d{12}):/.exec(arn)?.[1],
    userName: arn.replace(/^.*:user\//, ""),
  });
  if (accessKeyId !== undefined) expect(event.userIdentity.accessKeyId).toBe(accessKeyId);
}

/**
 * Waits (at most WAIT_MS) until audit_events holds at least `count` rows matching the SQL
 * condition `where` (read from D1 directly); returns how many it holds.
 */
export async function waitUntilStored(where: string, count: number): Promise<number> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const row = await env.DB.prepare(`SELECT count(*) AS n FROM audit_events WHERE ${where}`).first<{ n: number }>();
    const stored = row?.n ?? 0;
    if (stored >= count || Date.now() > deadline) return stored;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Every row of audit_events, each as the JSON text of all its columns (read from D1 directly). */
export async function storedRecordTexts(): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT * FROM audit_events ORDER BY id").all<Record<string, unknown>>();
  return results.map((row) => JSON.stringify(row));
}

/**
 * Waits for the records of the queries sent since the last call: written after their
 * responses, they would otherwise be cut off by the storage reset between tests (a logged
 * write failure), or land in the next test. Call after each test (trackSecrets does).
 */
export async function awaitLookupRecords(): Promise<void> {
  const sent = lookupsSent;
  lookupsSent = 0;
  await waitUntilStored("action = 'cloudtrail:LookupEvents'", sent);
}

/** The secrets a test file used, and the stored records they must never appear in. */
export interface SecretLedger {
  /** Adds values that no record may contain. */
  remember(...values: string[]): void;
  /** Asserts no record collected in the file (nor any stored now) holds a remembered secret or a token's shape. */
  scan(): Promise<void>;
}

/**
 * Tracks a file's secrets: after each test, before the storage reset of
 * test/support/apply-migrations.ts (after-hooks run in reverse order of registration), every
 * row of audit_events is kept for the file's last test to scan. Tests marked `it.fails` (a
 * known bug, pinned) are left out. Call once at the top of a test file.
 */
export function trackSecrets(initial: string[]): SecretLedger {
  const secrets = new Set<string>(initial);
  const rows: string[] = [];
  afterEach(async ({ task }) => {
    await awaitLookupRecords();
    if (task.fails === true) return;
    rows.push(...(await storedRecordTexts()));
  });
  return {
    remember(...values) {
      for (const value of values) secrets.add(value);
    },
    async scan() {
      rows.push(...(await storedRecordTexts()));
      // Every test left records; a scan of nothing would prove nothing.
      expect(rows.length, "rows scanned").toBeGreaterThan(10);
      for (const row of rows) {
        for (const secret of secrets) expect(row.includes(secret), `a secret in ${row}`).toBe(false);
        expect(row).not.toMatch(/eyJ[\w-]{4}/);
        expect(row).not.toMatch(/whsec_/);
      }
    },
  };
}
