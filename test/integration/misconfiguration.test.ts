/**
 * A Worker whose secrets are missing or malformed (production has no start script to check
 * them) answers 503 with a message naming the setting, in the surface's own error format, and
 * logs it once per isolate: never a bare 500 "internal error" on every request.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { adminAuthorization, ORIGIN } from "../support/registry";

async function callWith(
  overrides: Record<string, string | undefined>,
  method: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`${ORIGIN}${path}`, { ...init, method }) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const basic = { headers: { Authorization: adminAuthorization() } };

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a misconfigured Worker", () => {
  it("answers a token request without a signing key (a .dev.vars with only the admin key) with 503 naming REGISTRY_TOKEN_SIGNING_KEY", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const response = await callWith(
      { REGISTRY_TOKEN_SIGNING_KEY: undefined },
      "GET",
      "/token?service=edge-registry&scope=repository:a/b:pull",
      basic,
    );
    expect(response.status).toBe(503);
    const body = await response.json<{ errors: { code: string; message: string }[] }>();
    expect(body.errors[0]?.code).toBe("UNAVAILABLE");
    expect(body.errors[0]?.message).toBe(
      "the registry is misconfigured: REGISTRY_TOKEN_SIGNING_KEY is not set: no token can be issued",
    );
  });

  it.each<[string, Record<string, string>, RegExp]>([
    [
      "a signing key that is not JSON",
      { REGISTRY_TOKEN_SIGNING_KEY: "{oops" },
      /REGISTRY_TOKEN_SIGNING_KEY is not JSON/,
    ],
    [
      "an RSA signing key",
      { REGISTRY_TOKEN_SIGNING_KEY: JSON.stringify({ kty: "RSA", kid: "k" }) },
      /REGISTRY_TOKEN_SIGNING_KEY must be an EC P-256 key/,
    ],
    [
      "a public signing key",
      { REGISTRY_TOKEN_SIGNING_KEY: JSON.stringify({ kty: "EC", crv: "P-256", x: "AA", y: "AA", kid: "k" }) },
      /REGISTRY_TOKEN_SIGNING_KEY must be a private key/,
    ],
    [
      "a signing key with bad coordinates",
      { REGISTRY_TOKEN_SIGNING_KEY: JSON.stringify({ kty: "EC", crv: "P-256", x: "AA", y: "AA", d: "AA", kid: "k" }) },
      /REGISTRY_TOKEN_SIGNING_KEY is not a valid P-256 key/,
    ],
    ["a secrets key of 3 bytes", { REGISTRY_SECRETS_KEY: "AAAA" }, /REGISTRY_SECRETS_KEY must be 32 bytes/],
    [
      "a secrets key that is not base64",
      { REGISTRY_SECRETS_KEY: "not base64!" },
      /REGISTRY_SECRETS_KEY must be base64/,
    ],
    [
      "verification keys that are not a list",
      { REGISTRY_TOKEN_VERIFICATION_KEYS: "{}" },
      /REGISTRY_TOKEN_VERIFICATION_KEYS must be a JSON array/,
    ],
    ["an admin key id without its secret", { REGISTRY_ADMIN_SECRET_ACCESS_KEY: "" }, /must be set together/],
    [
      "a manifest size limit that is not a number",
      { MANIFEST_MAX_BYTES: "4 MiB" },
      /MANIFEST_MAX_BYTES must be a whole number of bytes/,
    ],
    [
      "a negative garbage collection grace period",
      { GC_GRACE_SECONDS: "-1" },
      /GC_GRACE_SECONDS must be a number of seconds/,
    ],
    [
      "a replica region whose R2 bucket is not bound",
      { REPLICA_REGIONS: "eu-west-1=BLOBS_EU_WEST_1,ap-southeast-1=BLOBS_AP_SOUTHEAST_1" },
      /REPLICA_REGIONS maps ap-southeast-1 to BLOBS_AP_SOUTHEAST_1, and the Worker has no R2 bucket bound as BLOBS_AP_SOUTHEAST_1/,
    ],
    [
      "a replica region bound to a variable instead of a bucket",
      { REPLICA_REGIONS: "eu-west-1=REGISTRY_SERVICE" },
      /REPLICA_REGIONS maps eu-west-1 to REGISTRY_SERVICE, and the Worker has no R2 bucket/,
    ],
    [
      "a malformed replica list",
      { REPLICA_REGIONS: "eu-west-1:BLOBS_EU_WEST_1" },
      /REPLICA_REGIONS must list region=BINDING pairs/,
    ],
  ])("answers /v2 with 503 for %s, naming the setting, and logs it once", async (_what, overrides, message) => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (let i = 0; i < 3; i++) {
      const response = await callWith(overrides, "GET", "/v2/", basic);
      const text = await response.text();
      expect(response.status, text).toBe(503);
      const body = JSON.parse(text) as { errors: { code: string; message: string }[] };
      expect(body.errors[0]?.code).toBe("UNAVAILABLE");
      expect(body.errors[0]?.message).toMatch(/^the registry is misconfigured: /);
      expect(body.errors[0]?.message).toMatch(message);
    }
    const lines = logged.mock.calls.map((args) => args.join(" ")).filter((line) => message.test(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^the registry is misconfigured: /);
  });

  it("answers the ECR API in AWS JSON (ServerException, 503) naming the setting", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const response = await callWith({ REGISTRY_SECRETS_KEY: "AAAA" }, "POST", "/", {
      headers: {
        "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
        "Content-Type": "application/x-amz-json-1.1",
      },
      body: "{}",
    });
    expect(response.status).toBe(503);
    const body = JSON.parse(new TextDecoder().decode(await response.arrayBuffer())) as {
      __type: string;
      message: string;
    };
    expect(body.__type).toBe("ServerException");
    expect(body.message).toMatch(/^the registry is misconfigured: REGISTRY_SECRETS_KEY must be 32 bytes/);
  });

  it("works again once the setting is fixed (nothing broken is kept)", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect((await callWith({ REGISTRY_SECRETS_KEY: "AAAA" }, "GET", "/v2/", basic)).status).toBe(503);
    expect((await callWith({}, "GET", "/v2/", basic)).status).toBe(200);
  });
});
