/**
 * Registry events delivered as signed webhooks (src/events/), end to end against a registry of
 * this file's own, started as `npm start` runs it (so it can be killed and restarted over its
 * state) with short retries (EVENT_RETRY_SECONDS=1, EVENT_DELIVERY_ATTEMPTS=3), its crons every 2 s, and a regional replica bucket (eu-west-1). Receivers are
 * node:http servers verifying every delivery with the `standardwebhooks` package
 * (support/webhook-receiver.ts); no request may fail verification.
 * Checked:
 *  1. push (skopeo, images from scripts/make-image.mjs), delete (BatchDeleteImage), scan on push
 *     and regional replication produce EventBridge envelopes that reach exactly the
 *     subscriptions whose patterns match them;
 *  2. a receiver answering 503 gets the retries with the same webhook-id until it accepts one;
 *     the log shows the attempts and DELIVERED;
 *  3. a receiver down through every attempt leaves the delivery FAILED with its error; once it
 *     is back, a replay delivers it once (and a second replay while pending is refused);
 *  4. the registry SIGKILLed right after a push's answer, while the receiver is down: after a
 *     restart over the same state, the events cron delivers the event.
 */
import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  ECRClient,
  PutReplicationConfigurationCommand,
} from "@aws-sdk/client-ecr";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { secretsInAuditTrail } from "./support/audit-scan";
import { signalGroup } from "./support/process-groups";
import { readLog, startRegistryProcess, type RegistryProcess, type RegistrySecrets } from "./support/registry-process";
import { describeRun, runSkopeo } from "./support/skopeo";
import { pushTinyImage } from "./support/tiny-image";
import { Webhook } from "standardwebhooks";
import { WebhookReceiver, type WebhookEvent } from "./support/webhook-receiver";

const ROOT = resolve(import.meta.dirname, "../..");
const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const REPLICA_REGION = "eu-west-1";
const ATTEMPTS = 3;
const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Delivery {
  id: number;
  eventId: string;
  detailType: string;
  repository: string | null;
  subscription: string;
  status: "PENDING" | "DELIVERED" | "FAILED";
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}

const scratch = { path: "" };
let stateDir = "";
let logPath = "";
let registry: RegistryProcess | undefined;
let ecr: ECRClient;
/** Every receiver this file starts (closed in afterAll, checked for failed verifications). */
const receivers: WebhookReceiver[] = [];
/** Every subscription's signing secret, which the audit trail must not hold. */
const webhookSecrets: string[] = [];

const REGISTRY_ENV = {
  REGISTRY_ACCOUNT_ID: ACCOUNT,
  REGISTRY_CRON_INTERVAL_SECONDS: "2",
  // The replica bucket BLOBS_EU_WEST_1 is bound by scripts/start.mjs only with the simulated
  // geography on (which changes nothing for a request that names no simulated location).
  REGISTRY_SIMULATED_GEOGRAPHY: "1",
  REPLICA_REGIONS: `${REPLICA_REGION}=BLOBS_EU_WEST_1`,
  EVENT_RETRY_SECONDS: "1",
  EVENT_DELIVERY_ATTEMPTS: String(ATTEMPTS),
};

async function startRegistry(reuse?: { port: number; secrets: RegistrySecrets }): Promise<RegistryProcess> {
  const started = await startRegistryProcess(stateDir, logPath, {
    ...(reuse === undefined ? {} : reuse),
    env: REGISTRY_ENV,
  });
  ecr = new ECRClient({
    endpoint: started.url,
    region: REGION,
    credentials: { accessKeyId: started.secrets.adminAccessKeyId, secretAccessKey: started.secrets.adminSecret },
    maxAttempts: 1,
  });
  return started;
}

function current(): RegistryProcess {
  if (registry === undefined) throw new Error("the registry is not running");
  return registry;
}

function logTail(lines = 60): string {
  return readLog(logPath)
    .split("\n")
    .filter((line) => line.trim() !== "")
    .slice(-lines)
    .join("\n");
}

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${current().url}${path}`, {
    method,
    headers: {
      Authorization: current().adminAuthorization,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function adminJson<T>(method: string, path: string, expected: number, body?: unknown): Promise<T> {
  const response = await admin(method, path, body);
  const text = await response.text();
  expect(response.status, `${method} ${path}: ${text}`).toBe(expected);
  return JSON.parse(text) as T;
}

/** Polls `probe` until it answers something other than null/undefined/false, for at most `timeoutMs`. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- registry log (tail) ---\n${logTail()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** PUTs a subscription delivering to `receiver` at `path`; the receiver verifies with its secret. */
async function subscribe(
  name: string,
  receiver: WebhookReceiver,
  path: string,
  pattern: object,
  secret?: string,
): Promise<void> {
  const created = await adminJson<{ name: string; endpoint: string; enabled: boolean; secret?: string }>(
    "PUT",
    `/admin/event-subscriptions/${name}`,
    201,
    { endpoint: receiver.url(path), pattern, ...(secret === undefined ? {} : { secret }) },
  );
  expect(created).toMatchObject({ name, endpoint: receiver.url(path), enabled: true });
  if (secret === undefined) {
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    receiver.setSecret(path, created.secret!);
    webhookSecrets.push(created.secret!);
  } else {
    // A secret given is never echoed back.
    expect(created.secret).toBeUndefined();
    receiver.setSecret(path, secret);
    webhookSecrets.push(secret);
  }
}

async function deliveries(query: Record<string, string>): Promise<Delivery[]> {
  const answer = await adminJson<{ deliveries: Delivery[] }>(
    "GET",
    `/admin/event-deliveries?${new URLSearchParams(query).toString()}`,
    200,
  );
  return answer.deliveries;
}

async function startReceiver(closed = false): Promise<WebhookReceiver> {
  const receiver = closed ? await WebhookReceiver.startClosed() : await WebhookReceiver.start();
  receivers.push(receiver);
  return receiver;
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(file, args, { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) =>
      resolvePromise({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** A new image (scripts/make-image.mjs) pushed with skopeo to repository:v1; returns its digest as stored. */
async function pushMadeImage(repository: string): Promise<string> {
  const layout = join(scratch.path, "images", repository.replaceAll("/", "_"));
  const made = await run(process.execPath, [join(ROOT, "scripts/make-image.mjs"), layout, "--tag", "v1"]);
  expect(made.code, made.stderr).toBe(0);
  const { adminAccessKeyId, adminSecret } = current().secrets;
  const pushed = await runSkopeo([
    "copy",
    "--dest-tls-verify=false",
    "--dest-creds",
    `${adminAccessKeyId}:${adminSecret}`,
    `oci:${layout}:v1`,
    `docker://127.0.0.1:${current().port}/${repository}:v1`,
  ]);
  expect(pushed.code, describeRun(pushed)).toBe(0);
  const head = await fetch(`${current().url}/v2/${repository}/manifests/v1`, {
    method: "HEAD",
    headers: {
      Authorization: current().adminAuthorization,
      Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    },
  });
  expect(head.status).toBe(200);
  const digest = head.headers.get("Docker-Content-Digest");
  expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  return digest!;
}

/** The envelope fields every event carries (src/events/envelope.ts). */
function expectEnvelope(event: WebhookEvent, detailType: string, notBefore: number): void {
  expect(event).toMatchObject({ version: "0", "detail-type": detailType, source: "aws.ecr", account: ACCOUNT });
  expect(event.region).toBe(REGION);
  expect(event.id).toMatch(UUID);
  expect(event.time).toMatch(ISO_SECONDS);
  const time = Date.parse(event.time);
  expect(time).toBeGreaterThanOrEqual(Math.floor(notBefore / 1000) * 1000);
  expect(time).toBeLessThanOrEqual(Date.now());
  expect(Array.isArray(event.resources)).toBe(true);
}

beforeAll(async () => {
  scratch.path = await mkdtemp(join(inject("e2eTempDir"), "webhooks-"));
  stateDir = join(scratch.path, "state");
  logPath = join(scratch.path, "registry.log");
  await mkdir(stateDir, { recursive: true });
  registry = await startRegistry();
}, 120_000);

afterEach(() => {
  // Whatever a test did, every request any receiver got carried a valid signature.
  for (const receiver of receivers) expect(receiver.invalid).toEqual([]);
});

afterAll(async () => {
  await registry?.stop();
  await Promise.all(receivers.map((receiver) => receiver.close()));
  if (scratch.path !== "" && process.env.E2E_KEEP_STATE === undefined)
    await rm(scratch.path, { recursive: true, force: true });
});

describe("registry events as signed webhooks", () => {
  /** The receiver of the pattern tests, kept so later tests can check it got nothing more. */
  let patterns: WebhookReceiver;
  const expectedOnPatterns = new Map<string, number>();

  it("has a receiver that refuses a request signed with another secret (so its verification means something)", async () => {
    // Not in `receivers`: its refused request is the point, not a failure of the registry's.
    const receiver = await WebhookReceiver.start();
    try {
      const secret = `whsec_${randomBytes(32).toString("base64")}`;
      receiver.setSecret("/check", secret);
      const body = JSON.stringify({ id: "check", detail: {} });
      const send = (signer: string) => {
        const sentAt = new Date();
        return fetch(receiver.url("/check"), {
          method: "POST",
          body,
          headers: {
            "webhook-id": "check",
            "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
            "webhook-signature": new Webhook(signer).sign("check", sentAt, body),
          },
        });
      };
      expect((await send(`whsec_${randomBytes(32).toString("base64")}`)).status).toBe(400);
      expect((await send(secret)).status).toBe(204);
      expect(receiver.invalid).toHaveLength(1);
      expect(receiver.accepted("/check")).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it("delivers push, delete, scan and replication events to the subscriptions whose patterns match, and to no other", async () => {
    const started = Date.now();
    patterns = await startReceiver();
    await subscribe("team-a-pushes", patterns, "/team-a", {
      source: ["aws.ecr"],
      "detail-type": ["ECR Image Action"],
      detail: { "action-type": ["PUSH"], "repository-name": [{ prefix: "team-a/" }] },
    });
    await subscribe("team-b-pushes", patterns, "/team-b", {
      "detail-type": ["ECR Image Action"],
      detail: { "action-type": ["PUSH"], "repository-name": [{ prefix: "team-b/" }] },
    });
    // This one with a secret of our own.
    await subscribe(
      "deletes",
      patterns,
      "/deletes",
      { source: ["aws.ecr"], "detail-type": ["ECR Image Action"], detail: { "action-type": ["DELETE"] } },
      `whsec_${randomBytes(32).toString("base64")}`,
    );
    await subscribe("scans", patterns, "/scans", { "detail-type": ["ECR Image Scan"] });
    await subscribe("replications", patterns, "/replications", {
      "detail-type": ["ECR Replication Action"],
      detail: { result: ["SUCCESS"], "destination-region": [REPLICA_REGION] },
    });
    // An update answers 200 and keeps the secret (none is returned).
    const updated = await adminJson<{ secret?: string }>("PUT", "/admin/event-subscriptions/scans", 200, {
      endpoint: patterns.url("/scans"),
      pattern: { "detail-type": ["ECR Image Scan"] },
    });
    expect(updated.secret).toBeUndefined();

    await ecr.send(
      new CreateRepositoryCommand({ repositoryName: "scan/app", imageScanningConfiguration: { scanOnPush: true } }),
    );
    await ecr.send(
      new PutReplicationConfigurationCommand({
        replicationConfiguration: {
          rules: [
            {
              destinations: [{ region: REPLICA_REGION, registryId: ACCOUNT }],
              repositoryFilters: [{ filter: "repl/", filterType: "PREFIX_MATCH" }],
            },
          ],
        },
      }),
    );

    const [teamA, teamB, scanned, replicated] = await Promise.all(
      ["team-a/x", "team-b/y", "scan/app", "repl/app"].map((repository) => pushMadeImage(repository)),
    );
    await ecr.send(new BatchDeleteImageCommand({ repositoryName: "team-a/x", imageIds: [{ imageTag: "v1" }] }));
    // The cron (every 2 s here) may have replicated it already; either way the event follows.
    const jobs = await adminJson<{ jobs: { job: string; ok: boolean }[] }>(
      "POST",
      "/admin/jobs/run?job=replication",
      200,
    );
    expect(jobs.jobs).toMatchObject([{ job: "replication", ok: true }]);

    const expected = { "/team-a": 1, "/team-b": 1, "/deletes": 1, "/scans": 1, "/replications": 1 };
    await waitFor(
      "the push, delete, scan and replication events",
      () => Object.entries(expected).every(([path, n]) => patterns.distinctEvents(path).length >= n),
      90_000,
    );
    for (const [path, n] of Object.entries(expected)) expectedOnPatterns.set(path, n);

    const byPath = (path: string): WebhookEvent => {
      const events = patterns.distinctEvents(path);
      expect(events, path).toHaveLength(1);
      return events[0]!;
    };
    const pushA = byPath("/team-a");
    expectEnvelope(pushA, "ECR Image Action", started);
    expect(pushA.resources).toEqual([]);
    expect(pushA.detail).toEqual({
      result: "SUCCESS",
      "repository-name": "team-a/x",
      "image-digest": teamA,
      "action-type": "PUSH",
      "image-tag": "v1",
    });
    const pushB = byPath("/team-b");
    expectEnvelope(pushB, "ECR Image Action", started);
    expect(pushB.detail).toMatchObject({ "repository-name": "team-b/y", "image-digest": teamB, "action-type": "PUSH" });

    const deleted = byPath("/deletes");
    expectEnvelope(deleted, "ECR Image Action", started);
    expect(deleted.detail).toEqual({
      result: "SUCCESS",
      "repository-name": "team-a/x",
      "image-digest": teamA,
      "action-type": "DELETE",
      "image-tag": "v1",
    });

    const scan = byPath("/scans");
    expectEnvelope(scan, "ECR Image Scan", started);
    expect(scan.resources).toEqual([`arn:aws:ecr:${REGION}:${ACCOUNT}:repository/scan/app`]);
    expect(scan.detail).toMatchObject({
      "scan-status": "COMPLETE",
      "repository-name": "scan/app",
      "image-digest": scanned,
      "image-tags": ["v1"],
    });
    expect(typeof scan.detail["finding-severity-counts"]).toBe("object");

    const replication = byPath("/replications");
    expectEnvelope(replication, "ECR Replication Action", started);
    expect(replication.resources).toEqual([`arn:aws:ecr:${REGION}:${ACCOUNT}:repository/repl/app`]);
    expect(replication.detail).toEqual({
      result: "SUCCESS",
      "repository-name": "repl/app",
      "image-digest": replicated,
      "image-tag": "v1",
      "action-type": "REPLICATE",
      "source-account": ACCOUNT,
      "source-region": REGION,
      "destination-account": ACCOUNT,
      "destination-region": REPLICA_REGION,
    });

    // Each delivery's webhook-id is its event's id, and every path got only what matched it.
    for (const request of patterns.requests) expect(request.webhookId).toBe(request.event?.id);
    expect(patterns.requests.map((request) => request.path).sort()).toEqual(Object.keys(expected).sort());
    // The delivery log agrees: one delivery per subscription, each DELIVERED at the first attempt.
    // (Fan-out takes events in the order they were recorded, so the pushes of scan/app and
    // repl/app were fanned out before the scan and replication events that followed them.)
    const log = await deliveries({});
    const bySubscription = (name: string) => log.filter((delivery) => delivery.subscription === name);
    expect(bySubscription("team-a-pushes")).toMatchObject([
      { detailType: "ECR Image Action", repository: "team-a/x", status: "DELIVERED", attempts: 1, eventId: pushA.id },
    ]);
    expect(bySubscription("team-b-pushes")).toMatchObject([{ repository: "team-b/y", eventId: pushB.id }]);
    expect(bySubscription("deletes")).toMatchObject([{ repository: "team-a/x", eventId: deleted.id }]);
    expect(bySubscription("scans")).toMatchObject([{ detailType: "ECR Image Scan", eventId: scan.id }]);
    expect(bySubscription("replications")).toMatchObject([
      { detailType: "ECR Replication Action", repository: "repl/app", eventId: replication.id },
    ]);
    expect(log.every((delivery) => delivery.status === "DELIVERED" && delivery.lastStatus === 204)).toBe(true);
  });

  it("retries a delivery the receiver answers 503 to, with the same webhook-id, until it is accepted", async () => {
    const receiver = await startReceiver();
    await subscribe("flaky", receiver, "/flaky", { detail: { "repository-name": [{ prefix: "flaky/" }] } });
    receiver.failNext = ATTEMPTS - 1;
    const digest = await pushTinyImage(current().url, current().adminAuthorization, "flaky/app", "v1");

    const [delivered] = await waitFor(
      "the flaky delivery to be DELIVERED",
      async () => {
        const found = await deliveries({ subscription: "flaky", status: "DELIVERED" });
        return found.length > 0 && found;
      },
      30_000,
    );
    expect(delivered).toMatchObject({ status: "DELIVERED", attempts: ATTEMPTS, lastStatus: 204, lastError: null });
    const requests = receiver.received("/flaky");
    expect(requests.map((request) => request.answered)).toEqual([503, 503, 204]);
    // The same webhook-id (the event's id) on every retry: a receiver dedupes by it.
    expect(new Set(requests.map((request) => request.webhookId))).toEqual(new Set([delivered!.eventId]));
    const events = receiver.distinctEvents("/flaky");
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ "repository-name": "flaky/app", "image-digest": digest });
    // Backoff: the first wait is EVENT_RETRY_SECONDS, the second twice that.
    const [first, second, third] = requests.map((request) => request.receivedAt);
    expect(second! - first!).toBeGreaterThanOrEqual(900);
    expect(third! - second!).toBeGreaterThanOrEqual(1900);
    expect(await deliveries({ subscription: "flaky", status: "PENDING" })).toEqual([]);
  });

  it("ends a delivery FAILED when the receiver is down through every attempt, and a replay delivers it once", async () => {
    const receiver = await startReceiver(true);
    await subscribe("down", receiver, "/down", { detail: { "repository-name": [{ prefix: "down/" }] } });
    const digest = await pushTinyImage(current().url, current().adminAuthorization, "down/app", "v1");

    const [failed] = await waitFor(
      "the delivery to end FAILED",
      async () => {
        const found = await deliveries({ subscription: "down", status: "FAILED" });
        return found.length > 0 && found;
      },
      30_000,
    );
    expect(failed).toMatchObject({ status: "FAILED", attempts: ATTEMPTS, lastStatus: null, deliveredAt: null });
    expect(failed!.lastError).toMatch(new RegExp(`could not be reached.*\\(after ${ATTEMPTS} attempts\\)`, "s"));
    expect(await deliveries({ subscription: "down", status: "PENDING" })).toEqual([]);
    expect(await deliveries({ subscription: "down", status: "DELIVERED" })).toEqual([]);
    const detail = await adminJson<Delivery & { event: WebhookEvent }>(
      "GET",
      `/admin/event-deliveries/${failed!.id}`,
      200,
    );
    expect(detail.event).toMatchObject({ id: failed!.eventId, detail: { "repository-name": "down/app" } });
    expect(receiver.requests).toEqual([]);

    await receiver.open();
    const replayed = await adminJson<Delivery>("POST", `/admin/event-deliveries/${failed!.id}/replay`, 202);
    expect(replayed).toMatchObject({ id: failed!.id, status: "PENDING", attempts: 0 });
    // A replay while the delivery is pending is refused.
    const again = await admin("POST", `/admin/event-deliveries/${failed!.id}/replay`);
    expect(again.status, await again.text()).toBe(409);

    const [delivered] = await waitFor(
      "the replayed delivery to be DELIVERED",
      async () => {
        const found = await deliveries({ subscription: "down", status: "DELIVERED" });
        return found.length > 0 && found;
      },
      30_000,
    );
    expect(delivered).toMatchObject({ id: failed!.id, attempts: 1, lastStatus: 204, lastError: null });
    // Delivered once: nothing else arrives afterwards.
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.accepted("/down").map((request) => request.webhookId)).toEqual([failed!.eventId]);
    expect(receiver.distinctEvents("/down")[0]!.detail).toMatchObject({
      "repository-name": "down/app",
      "image-digest": digest,
      "action-type": "PUSH",
    });
  });

  it("delivers an event recorded just before the registry was killed, once it is restarted over the same state", async () => {
    const receiver = await startReceiver(true);
    await subscribe("crash", receiver, "/crash", { detail: { "repository-name": [{ prefix: "crash/" }] } });
    const killed = current();
    const digest = await pushTinyImage(killed.url, killed.adminAuthorization, "crash/app", "v1");
    // Right after the push's answer, the whole process group (node, workerd) dies: the local
    // queue's messages (kept in memory) go with it.
    signalGroup(killed.child.pid!, "SIGKILL");
    registry = undefined;
    await waitFor(
      "the killed registry to exit",
      () => killed.child.exitCode !== null || killed.child.signalCode !== null,
      10_000,
      50,
    );
    await receiver.open();
    registry = await startRegistry({ port: killed.port, secrets: killed.secrets });
    const restarted = Date.now();

    // No POST /admin/jobs/run here: the cron's events job (every 2 s in this registry) fans out
    // what was left undispatched, or re-sends a delivery overdue by more than 60 s.
    await waitFor("the event to arrive after the restart", () => receiver.accepted("/crash").length > 0, 100_000, 250);
    const elapsed = Date.now() - restarted;
    const [delivered] = await waitFor(
      "the crash delivery to be DELIVERED in the log",
      async () => {
        const found = await deliveries({ subscription: "crash", status: "DELIVERED" });
        return found.length > 0 && found;
      },
      10_000,
    );
    expect(delivered).toMatchObject({ repository: "crash/app", lastStatus: 204 });
    // One attempt: fanned out by the cron after the restart; more: the kill came after a failed
    // attempt, and the cron re-sent the overdue delivery.
    console.log(
      `[webhooks] the event pushed before the kill arrived ${elapsed} ms after the restart (attempts: ${delivered!.attempts})`,
    );
    const events = receiver.distinctEvents("/crash");
    expect(events).toHaveLength(1);
    expect(events[0]!.id).toBe(delivered!.eventId);
    expect(events[0]!.detail).toMatchObject({
      "repository-name": "crash/app",
      "image-digest": digest,
      "action-type": "PUSH",
    });
    expect(receiver.accepted("/crash").every((request) => request.webhookId === delivered!.eventId)).toBe(true);
  });

  it("sent the pattern subscriptions nothing the later tests caused", () => {
    for (const [path, n] of expectedOnPatterns) expect(patterns.distinctEvents(path), path).toHaveLength(n);
    expect(patterns.requests).toHaveLength([...expectedOnPatterns.values()].reduce((sum, n) => sum + n, 0));
  });

  it("keeps the subscriptions' signing secrets out of the audit trail", async () => {
    expect(webhookSecrets).toHaveLength(8);
    const scan = await secretsInAuditTrail(current().url, current().adminAuthorization, webhookSecrets);
    expect(scan.records).toBeGreaterThan(0);
    expect(scan.findings).toEqual([]);
  });
});
