/**
 * Throttling of failed logins (issue 12, item 13): after N failures of one access key id, or
 * from one client address, within a window, every login with it is refused with 429 (OCI
 * TOOMANYREQUESTS with Retry-After on /token, /v2 and /admin; ThrottlingException on the ECR
 * API), even with the right secret, until the window ends; other keys and addresses are not
 * affected, successful logins are never counted, the window ends on its own, and a refused
 * attempt writes nothing.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { LoginThrottleObject } from "../../src/auth/login-throttle-object";
import { WebCryptoSha256 } from "../../src/control/sigv4";
import worker from "../../src/index";
import { ecrCall } from "../support/ecr";
import {
  allowPolicy,
  basicAuthorization,
  createUser,
  digestOf,
  ORIGIN,
  randomBytes,
  SERVICE,
  type TestUser,
} from "../support/registry";

const PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeRegistry"];
const PUSH = [
  ...PULL,
  "ecr:BatchCheckLayerAvailability",
  "ecr:InitiateLayerUpload",
  "ecr:UploadLayerPart",
  "ecr:CompleteLayerUpload",
  "ecr:PutImage",
];

type Settings = Partial<
  Record<"LOGIN_THROTTLE_KEY_FAILURES" | "LOGIN_THROTTLE_IP_FAILURES" | "LOGIN_THROTTLE_WINDOW_SECONDS", string>
>;

interface Sent {
  ip?: string;
  authorization?: string;
  settings?: Settings;
  body?: BodyInit;
  headers?: Record<string, string>;
}

/** Calls the Worker as the edge would (with CF-Connecting-IP), under the given throttle settings. */
async function send(method: string, path: string, sent: Sent = {}): Promise<Response> {
  const headers = new Headers(sent.headers);
  if (sent.authorization) headers.set("Authorization", sent.authorization);
  if (sent.ip) headers.set("CF-Connecting-IP", sent.ip);
  const request = new Request<unknown, IncomingRequestCfProperties>(`${ORIGIN}${path}`, {
    method,
    headers,
    body: sent.body,
  });
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, ...sent.settings } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

function tokenPath(scope = "repository:team-a/app:pull"): string {
  return `/token?${new URLSearchParams({ service: SERVICE, scope }).toString()}`;
}

function wrongSecret(user: TestUser): string {
  return basicAuthorization(user.accessKeyId, `${user.secretAccessKey}-wrong`);
}

/** Asserts an OCI 429 with a Retry-After within the window; returns the Retry-After seconds. */
async function expectThrottled(response: Response, windowSeconds = 60): Promise<number> {
  const text = await response.text();
  expect(response.status, text).toBe(429);
  if (text !== "") expect((JSON.parse(text) as { errors: { code: string }[] }).errors[0]?.code).toBe("TOOMANYREQUESTS");
  const retryAfter = Number(response.headers.get("Retry-After"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  return retryAfter;
}

async function expectStatus(response: Response, status: number): Promise<void> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
}

/** Fails `count` logins of `authorization` at GET /token from `ip`, each answered 401. */
async function fail(count: number, authorization: string, ip: string, settings?: Settings): Promise<void> {
  for (let i = 0; i < count; i++)
    await expectStatus(await send("GET", tokenPath(), { authorization, ip, settings }), 401);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("Basic credentials at the token service, /v2 and /admin", () => {
  it("throttles a key after 10 failures: even the right secret gets 429 with Retry-After; other keys and addresses are unaffected", async () => {
    const victim = await createUser("victim", allowPolicy(PULL));
    const bystander = await createUser("bystander", allowPolicy(PULL));
    await fail(10, wrongSecret(victim), "198.51.100.7");

    // The key is throttled on every surface that takes Basic credentials, from any address.
    const right = victim.authorization;
    await expectThrottled(await send("GET", tokenPath(), { authorization: right, ip: "198.51.100.7" }));
    await expectThrottled(await send("GET", tokenPath(), { authorization: right, ip: "203.0.113.9" }));
    await expectThrottled(await send("GET", tokenPath(), { authorization: right }));
    await expectThrottled(await send("GET", "/v2/", { authorization: right }));
    const head = await send("HEAD", "/v2/team-a/app/manifests/latest", { authorization: right });
    expect(head.status).toBe(429);
    expect(head.headers.get("Retry-After")).not.toBeNull();
    await expectThrottled(await send("GET", "/admin/users", { authorization: right }));
    const form = new URLSearchParams({
      grant_type: "password",
      service: SERVICE,
      client_id: "t",
      username: victim.accessKeyId,
      password: victim.secretAccessKey,
    });
    await expectThrottled(
      await send("POST", "/token", {
        body: form,
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        ip: "203.0.113.9",
      }),
    );

    // Another key from the same address still logs in (11 failures there, under 30).
    await expectStatus(
      await send("GET", tokenPath(), { authorization: bystander.authorization, ip: "198.51.100.7" }),
      200,
    );
  });

  it("throttles an address after 30 failures of any keys, and not other addresses", async () => {
    const user = await createUser("roamer", allowPolicy(PULL));
    for (let i = 0; i < 30; i++) {
      await expectStatus(
        await send("GET", tokenPath(), { authorization: basicAuthorization(`AKIAGUESS${i}`, "x"), ip: "192.0.2.50" }),
        401,
      );
    }
    await expectThrottled(await send("GET", tokenPath(), { authorization: user.authorization, ip: "192.0.2.50" }));
    await expectThrottled(await send("GET", "/v2/", { authorization: user.authorization, ip: "192.0.2.50" }));
    await expectStatus(await send("GET", tokenPath(), { authorization: user.authorization, ip: "192.0.2.51" }), 200);
    await expectStatus(await send("GET", tokenPath(), { authorization: user.authorization }), 200);
  });

  it("counts an IPv6 client by its /64", async () => {
    const user = await createUser("six", allowPolicy(PULL));
    const settings = { LOGIN_THROTTLE_IP_FAILURES: "3" };
    for (let i = 1; i <= 3; i++) {
      await expectStatus(
        await send("GET", tokenPath(), {
          authorization: basicAuthorization(`AKIAV6${i}`, "x"),
          ip: `2001:db8:1:2::${i}`,
          settings,
        }),
        401,
      );
    }
    await expectThrottled(
      await send("GET", tokenPath(), { authorization: user.authorization, ip: "2001:db8:1:2:ffff::1", settings }),
    );
    await expectStatus(
      await send("GET", tokenPath(), { authorization: user.authorization, ip: "2001:db8:1:3::1", settings }),
      200,
    );
  });

  it("never counts successful logins, nor logins with user AWS against a key", async () => {
    const user = await createUser("regular", allowPolicy([...PULL, "ecr:GetAuthorizationToken"]));
    const settings = { LOGIN_THROTTLE_KEY_FAILURES: "2" };
    for (let i = 0; i < 20; i++)
      await expectStatus(await send("GET", tokenPath(), { authorization: user.authorization, settings }), 200);
    await fail(1, wrongSecret(user), "198.51.100.20", settings);
    await expectStatus(await send("GET", tokenPath(), { authorization: user.authorization, settings }), 200);

    // Bad login tokens for user AWS (shared by every `docker login -u AWS`) never throttle a key.
    const login = await send("GET", "/admin/authorization-token", { authorization: user.authorization });
    const token = (await login.json<{ authorizationToken: string }>()).authorizationToken;
    for (let i = 0; i < 5; i++)
      await expectStatus(
        await send("GET", tokenPath(), { authorization: basicAuthorization("AWS", `forged-${i}`), settings }),
        401,
      );
    await expectStatus(await send("GET", tokenPath(), { authorization: `Basic ${token}`, settings }), 200);
  });

  it("ends with its window, and the throttle's object then forgets the key", async () => {
    const user = await createUser("patient", allowPolicy(PULL));
    const settings = { LOGIN_THROTTLE_KEY_FAILURES: "2", LOGIN_THROTTLE_WINDOW_SECONDS: "2" };
    const stub = env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(`key:${user.accessKeyId}`));
    const stored = () =>
      runInDurableObject(stub, (_instance: LoginThrottleObject, state) => [...state.storage.kv.list()].length);
    await fail(2, wrongSecret(user), "198.51.100.30", settings);
    const retryAfter = await expectThrottled(
      await send("GET", tokenPath(), { authorization: user.authorization, settings }),
      2,
    );
    expect(await stored()).toBe(1);
    await sleep(retryAfter * 1000 + 100);
    await expectStatus(await send("GET", tokenPath(), { authorization: user.authorization, settings }), 200);

    // The object deletes what it stored once its window's alarm has run (workerd runs it on
    // time; run it here in case it has not yet).
    await runDurableObjectAlarm(stub);
    expect(await stored()).toBe(0);
  });

  it("writes nothing for a throttled attempt, even one with the right secret", async () => {
    const user = await createUser("pusher", allowPolicy(PUSH));
    await fail(10, wrongSecret(user), "198.51.100.40");
    const blob = randomBytes(128);
    const digest = await digestOf(blob);
    await expectThrottled(
      await send("POST", `/v2/team-a/new/blobs/uploads/?digest=${digest}`, {
        authorization: user.authorization,
        body: blob,
      }),
    );
    await expectThrottled(
      await send("POST", "/admin/users", {
        authorization: user.authorization,
        body: JSON.stringify({ name: "sneaky" }),
      }),
    );
    // Seen with the admin's credentials: no repository, no blob, no user.
    const admin = basicAuthorization(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY);
    expect((await ecrCall("DescribeRepositories", { repositoryNames: ["team-a/new"] })).type).toBe(
      "RepositoryNotFoundException",
    );
    await expectStatus(await send("HEAD", `/v2/team-a/new/blobs/${digest}`, { authorization: admin }), 404);
    await expectStatus(await send("GET", "/admin/users/sneaky", { authorization: admin }), 404);
  });
});

describe("SigV4 on the ECR API", () => {
  /** One ECR call signed with `credentials`, from `ip`. */
  async function ecrAs(
    credentials: { accessKeyId: string; secretAccessKey: string },
    ip?: string,
  ): Promise<{ status: number; type: string; retryAfter: string | null }> {
    const url = new URL(ORIGIN);
    const body = "{}";
    const signer = new SignatureV4({ service: "ecr", region: "us-east-1", credentials, sha256: WebCryptoSha256 });
    const signed = await signer.sign(
      {
        method: "POST",
        protocol: url.protocol,
        hostname: url.hostname,
        path: "/",
        query: {},
        headers: {
          host: url.host,
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": "AmazonEC2ContainerRegistry_V20150921.DescribeRegistry",
        },
        body,
      },
      { signingDate: new Date() },
    );
    const response = await send("POST", "/", { headers: signed.headers, body, ip });
    const parsed = JSON.parse(new TextDecoder().decode(await response.arrayBuffer())) as { __type?: string };
    return { status: response.status, type: parsed.__type ?? "", retryAfter: response.headers.get("Retry-After") };
  }

  it("answers ThrottlingException (429) after 10 wrong signatures of a key, then refuses the right one too; other keys go on", async () => {
    const victim = await createUser("signer", allowPolicy(PULL));
    const other = await createUser("other-signer", allowPolicy(PULL));
    const right = { accessKeyId: victim.accessKeyId, secretAccessKey: victim.secretAccessKey };
    expect((await ecrAs(right)).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      expect(
        await ecrAs({ ...right, secretAccessKey: `${victim.secretAccessKey.slice(0, -1)}!` }, "198.51.100.60"),
      ).toMatchObject({
        status: 403,
        type: "InvalidSignatureException",
      });
    }
    const throttled = await ecrAs(right, "203.0.113.60");
    expect(throttled).toMatchObject({ status: 429, type: "ThrottlingException" });
    expect(Number(throttled.retryAfter)).toBeGreaterThan(0);
    // The same key is throttled at the token service too: the throttle is the key's.
    await expectThrottled(await send("GET", tokenPath(), { authorization: victim.authorization }));
    expect(
      await ecrAs({ accessKeyId: other.accessKeyId, secretAccessKey: other.secretAccessKey }, "198.51.100.60"),
    ).toMatchObject({ status: 200 });
  });

  it("throttles an address that tries unknown access keys", async () => {
    const user = await createUser("ecr-user", allowPolicy(PULL));
    const credentials = { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
    for (let i = 0; i < 30; i++) {
      expect(
        await ecrAs({ accessKeyId: `AKIAUNKNOWN${i}`, secretAccessKey: "x".repeat(40) }, "192.0.2.80"),
      ).toMatchObject({
        status: 403,
        type: "UnrecognizedClientException",
      });
    }
    expect(await ecrAs(credentials, "192.0.2.80")).toMatchObject({ status: 429, type: "ThrottlingException" });
    expect(await ecrAs(credentials, "192.0.2.81")).toMatchObject({ status: 200 });
  });
});
