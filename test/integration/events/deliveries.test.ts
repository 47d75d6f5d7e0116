/**
 * Webhook subscriptions and their deliveries inside the runtime: validation at the admin
 * boundary, the fan-out by pattern (run by the queue's consumer on its own), a delivery to an
 * endpoint that refuses connections retried and then FAILED, replay, the dead-letter queue,
 * and the events job recovering an event whose dispatch message was lost and deliveries whose
 * message was lost. Signatures and a live receiver are tested end to end (test/e2e/webhooks.test.ts).
 */
import { createMessageBatch, getQueueResult, createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settingsOf } from "../../../src/config/load";
import { attemptDelivery } from "../../../src/events/delivery";
import { consumeEventBatch } from "../../../src/events/consumer";
import { runEvents } from "../../../src/events/run";
import { adminCall, expectError, pushImage } from "../../support/registry";

/** Nothing listens on port 9 (discard) here: connections are refused at once. */
const REFUSING = "http://127.0.0.1:9/hooks";

interface Delivery {
  id: number;
  eventId: string;
  detailType: string;
  repository: string | null;
  subscription: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

async function subscribe(name: string, pattern: unknown, enabled = true): Promise<Record<string, unknown>> {
  const response = await adminCall("PUT", `/admin/event-subscriptions/${name}`, {
    endpoint: REFUSING,
    pattern,
    enabled,
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json();
}

async function deliveries(query = ""): Promise<Delivery[]> {
  const response = await adminCall("GET", `/admin/event-deliveries${query}`);
  expect(response.status).toBe(200);
  return (await response.json<{ deliveries: Delivery[] }>()).deliveries;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

describe("event subscriptions", () => {
  it("refuses bad endpoints, patterns and secrets, storing nothing", async () => {
    const bad = [
      { endpoint: "ftp://example.com/x", pattern: { source: ["aws.ecr"] } },
      { endpoint: "http://example.com/hook", pattern: { source: ["aws.ecr"] } },
      { endpoint: "https://user:pw@example.com/hook", pattern: { source: ["aws.ecr"] } },
      { endpoint: "https://example.com/hook", pattern: {} },
      { endpoint: "https://example.com/hook", pattern: { detail: { tag: [{ contains: "x" }] } } },
      { endpoint: "https://example.com/hook", pattern: "aws.ecr" },
      { endpoint: "https://example.com/hook", pattern: { source: ["aws.ecr"] }, secret: "not-a-secret" },
      { endpoint: "https://example.com/hook", pattern: { source: ["aws.ecr"] }, secret: "whsec_c2hvcnQ=" },
    ];
    for (const body of bad) {
      await expectError(await adminCall("PUT", "/admin/event-subscriptions/bad", body), 400, "INVALID_REQUEST");
    }
    await expectError(
      await adminCall("PUT", "/admin/event-subscriptions/a%20b", { endpoint: "https://e.com", pattern: {} }),
      400,
      "INVALID_REQUEST",
    );
    expect((await adminCall("GET", "/admin/event-subscriptions/bad")).status).toBe(404);
    expect(
      (
        await adminCall(
          "PUT",
          "/admin/event-subscriptions/x",
          { endpoint: "https://e.com", pattern: { source: ["aws.ecr"] } },
          "Basic bm86bm8=",
        )
      ).status,
    ).toBe(401);
  });

  it("generates a secret once and never shows it again; an update keeps it", async () => {
    const created = await subscribe("keeps-secret", { source: ["aws.ecr"] }, false);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const shown = await (
      await adminCall("GET", "/admin/event-subscriptions/keeps-secret")
    ).json<Record<string, unknown>>();
    expect(shown).toMatchObject({ name: "keeps-secret", endpoint: REFUSING, enabled: false });
    expect(JSON.stringify(shown)).not.toContain("whsec_");
    const updated = await adminCall("PUT", "/admin/event-subscriptions/keeps-secret", {
      endpoint: "https://hooks.example.com/registry",
      pattern: { source: ["aws.ecr"] },
      enabled: false,
    });
    expect(updated.status).toBe(200);
    expect(JSON.stringify(await updated.json())).not.toContain("whsec_");
    const sealed = await env.DB.prepare(
      "SELECT secret_sealed FROM event_subscriptions WHERE name = 'keeps-secret'",
    ).first<{
      secret_sealed: string;
    }>();
    expect(sealed?.secret_sealed).not.toContain(String(created.secret).slice(6));
    expect((await adminCall("DELETE", "/admin/event-subscriptions/keeps-secret")).status).toBe(204);
    expect((await adminCall("DELETE", "/admin/event-subscriptions/keeps-secret")).status).toBe(404);
  });
});

describe("deliveries", () => {
  it("fans out by pattern, retries a refused endpoint, ends FAILED past the budget, and replays", async () => {
    await subscribe("team-a-pushes", {
      source: ["aws.ecr"],
      "detail-type": ["ECR Image Action"],
      detail: { "action-type": ["PUSH"], "repository-name": [{ prefix: "team-a/" }] },
    });
    await subscribe("deletes", { detail: { "action-type": ["DELETE"] } });
    await subscribe("disabled", { source: ["aws.ecr"] }, false);
    const { digest } = await pushImage("team-a/hooked", "v1");
    await pushImage("team-b/not-hooked", "v1");

    // The queue's consumer fans out and makes the first attempt on its own.
    const first = await until(
      () => deliveries("?subscription=team-a-pushes"),
      (list) => list.length === 1 && list[0]!.attempts === 1 && list[0]!.lastError !== null,
    );
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ detailType: "ECR Image Action", repository: "team-a/hooked", status: "PENDING" });
    expect(first[0]?.lastError).toMatch(/could not be reached/);
    expect(await deliveries("?subscription=deletes")).toEqual([]);
    expect(await deliveries("?subscription=disabled")).toEqual([]);
    const event = await (
      await adminCall("GET", `/admin/event-deliveries/${first[0]!.id}`)
    ).json<{
      event: { detail: Record<string, unknown> };
    }>();
    expect(event.event.detail).toMatchObject({ "image-digest": digest, "image-tag": "v1" });

    // The retry's time has come (the queue would send it after EVENT_RETRY_SECONDS): the last attempt.
    const id = first[0]!.id;
    await env.DB.prepare("UPDATE event_deliveries SET lease_until = 0 WHERE id = ?").bind(id).run();
    const settings = { ...settingsOf(env), eventDeliveryAttempts: 2 };
    expect(await attemptDelivery(env, settings, id)).toBeNull();
    const [failed] = await deliveries("?status=FAILED&subscription=team-a-pushes");
    expect(failed).toMatchObject({ id, status: "FAILED", attempts: 2 });
    expect(failed?.lastError).toMatch(/after 2 attempts/);
    // A second message for it (a duplicate) does nothing.
    expect(await attemptDelivery(env, settings, id)).toBeNull();
    expect((await deliveries("?status=FAILED&subscription=team-a-pushes"))[0]?.attempts).toBe(2);

    const replay = await adminCall("POST", `/admin/event-deliveries/${id}/replay`);
    expect(replay.status).toBe(202);
    expect(await replay.json()).toMatchObject({ id, status: "PENDING", attempts: 0 });
    await expectError(await adminCall("POST", `/admin/event-deliveries/${id}/replay`), 409, "CONFLICT");
    await expectError(await adminCall("POST", "/admin/event-deliveries/999999/replay"), 404, "NOT_FOUND");
    await expectError(await adminCall("POST", "/admin/event-deliveries/abc/replay"), 400, "INVALID_REQUEST");
    // The replay's message is consumed: a new first attempt.
    const again = await until(
      () => deliveries("?subscription=team-a-pushes"),
      (list) => list[0]!.attempts === 1,
    );
    expect(again[0]).toMatchObject({ id, status: "PENDING", attempts: 1 });
  });

  it("ends a delivery FAILED when its message reaches the dead-letter queue", async () => {
    await subscribe("dead-letters", { detail: { "repository-name": ["team-a/dead"] } });
    await pushImage("team-a/dead", "v1");
    const [delivery] = await until(
      () => deliveries("?subscription=dead-letters"),
      (list) => list.length === 1 && list[0]!.attempts >= 1,
    );
    const batch = createMessageBatch("edge-registry-events-dlq", [
      { id: "m1", timestamp: new Date(), attempts: 11, body: { kind: "deliver", delivery: delivery!.id } },
      { id: "m2", timestamp: new Date(), attempts: 1, body: { kind: "something-else" } },
    ]);
    const ctx = createExecutionContext();
    await consumeEventBatch(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2"]);
    const [ended] = await deliveries("?subscription=dead-letters");
    expect(ended).toMatchObject({ status: "FAILED" });
    expect(ended?.lastError).toMatch(/dead-letter queue/);
  });

  it("the events job fans out an event no message announced and re-sends a delivery whose message was lost", async () => {
    await subscribe("recovered", { detail: { "repository-name": ["team-a/recovered"] } });
    // An event recorded by a write whose dispatch message was lost (the Worker died after the write).
    const envelope = {
      version: "0",
      id: crypto.randomUUID(),
      "detail-type": "ECR Image Action",
      source: "aws.ecr",
      account: "123456789012",
      time: new Date().toISOString(),
      region: "us-east-1",
      resources: [],
      detail: { result: "SUCCESS", "repository-name": "team-a/recovered", "action-type": "PUSH" },
    };
    await env.DB.prepare(
      "INSERT INTO registry_events (event_id, at, detail_type, repository, body) VALUES (?, ?, ?, ?, ?)",
    )
      .bind(envelope.id, Date.now(), envelope["detail-type"], "team-a/recovered", JSON.stringify(envelope))
      .run();
    const report = await runEvents(env, settingsOf(env));
    expect(report.fannedOut).toBeGreaterThanOrEqual(1);
    const [delivery] = await until(
      () => deliveries("?subscription=recovered"),
      (list) => list.length === 1 && list[0]!.attempts >= 1,
    );
    expect(delivery?.eventId).toBe(envelope.id);
    // Its retry message is lost too (a restart): overdue by more than a minute, the job sends it again.
    await env.DB.prepare("UPDATE event_deliveries SET lease_until = ? WHERE id = ?")
      .bind(Date.now() - 120_000, delivery!.id)
      .run();
    expect((await runEvents(env, settingsOf(env))).resent).toBe(1);
    await until(
      () => deliveries("?subscription=recovered"),
      (list) => list[0]!.attempts >= 2,
    );
    expect((await deliveries("?subscription=recovered"))[0]?.attempts).toBeGreaterThanOrEqual(2);
  });

  it("pages the delivery log and refuses bad queries", async () => {
    await expectError(await adminCall("GET", "/admin/event-deliveries?status=LOST"), 400, "INVALID_REQUEST");
    await expectError(await adminCall("GET", "/admin/event-deliveries?maxResults=0"), 400, "INVALID_REQUEST");
    await expectError(await adminCall("GET", "/admin/event-deliveries?nextToken=x"), 400, "INVALID_REQUEST");
  });
});
