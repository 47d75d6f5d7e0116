/**
 * The black-box fuzz classes of issue 12, replayed inside workerd with fixed seeds: random
 * `/v2` requests (methods, paths built from the route grammar and its edge cases, queries,
 * headers, bodies), random ECR control-plane calls (targets including `Object.prototype`
 * names, bodies mixing the API's field names with hostile values), and authentication
 * attacks (Basic, Bearer and `/token` with forged, malformed and oversized input). Every
 * answer must be a well-formed error or a success: never a 5xx from our code.
 *
 * Framing-level attacks (duplicate Content-Length, absolute-form targets, ...) never reach
 * the Worker; they are tested against the local front in test/e2e/http-framing.test.ts.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { env, exports } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { SUPPORTED_ACTIONS, TARGET_PREFIX } from "../../src/control/routes";
import { WebCryptoSha256 } from "../../src/control/sigv4";
import {
  adminAuthorization,
  basicAuthorization,
  bytesOf,
  call,
  fetchToken,
  ORIGIN,
  pushImage,
  SERVICE,
} from "../support/registry";

/** A small seeded PRNG (mulberry32), so a failure names a seed that replays it. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Fuzzer {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)]!;
  }
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
  text(length: number): string {
    const alphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@%+=*?&#[]{}\"'\\ \u00e9\u4e2d\u{1F600}\u0000\n";
    const chars = [...alphabet];
    let out = "";
    for (let i = 0; i < length; i++) out += this.pick(chars);
    return out;
  }
}

const HEX64 = "a".repeat(64);
const PROTOTYPE_NAMES = [
  "__proto__",
  "constructor",
  "hasOwnProperty",
  "valueOf",
  "toString",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__defineGetter__",
  "__lookupSetter__",
];

/** Values that have broken parsers before: wrong types, edges of number ranges, odd strings. */
function hostileValue(f: Fuzzer, depth = 0): unknown {
  switch (f.int(depth > 2 ? 9 : 12)) {
    case 0:
      return f.text(f.int(20));
    case 1:
      return f.pick([
        "",
        " ",
        "x".repeat(300),
        "x".repeat(70_000),
        "fuzz/app",
        "latest",
        `sha256:${HEX64}`,
        "sha256:",
        "null",
        "*",
        ...PROTOTYPE_NAMES,
      ]);
    case 2:
      return f.pick([0, -1, 1, 1.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e-308]);
    case 3:
      return f.chance(0.5);
    case 4:
      return null;
    case 5:
      return f.pick(PROTOTYPE_NAMES);
    case 6:
      return `arn:aws:ecr:us-east-1:${f.pick(["123456789012", "000000000000", "x"])}:repository/${f.pick(["fuzz/app", "", "*", "__proto__"])}`;
    case 7:
      return f.pick([
        "MUTABLE",
        "IMMUTABLE",
        "IMMUTABLE_WITH_EXCLUSION",
        "mutable",
        "AES256",
        "KMS",
        "BASIC",
        "ENHANCED",
        "TAGGED",
        "UNTAGGED",
        "ANY",
      ]);
    case 8:
      return JSON.stringify({
        rules: [
          {
            rulePriority: f.pick([1, -1, 0, 1.5]),
            selection: {
              tagStatus: f.pick(["any", "tagged", "x"]),
              countType: "imageCountMoreThan",
              countNumber: f.pick([1, 0, -1]),
            },
            action: { type: "expire" },
          },
        ],
      });
    case 9:
      return Array.from({ length: f.pick([0, 1, 3, 101, 150]) }, () => hostileValue(f, depth + 1));
    case 10:
      return Object.fromEntries(
        Array.from({ length: f.int(4) }, () => [
          f.pick([...ECR_FIELDS, ...PROTOTYPE_NAMES]),
          hostileValue(f, depth + 1),
        ]),
      );
    default:
      return {
        imageTag: f.pick(["latest", "", "x".repeat(200)]),
        imageDigest: f.pick([`sha256:${HEX64}`, "sha256:zz", "md5:00"]),
      };
  }
}

const ECR_FIELDS = [
  "registryId",
  "repositoryName",
  "repositoryNames",
  "imageIds",
  "imageTag",
  "imageDigest",
  "imageManifest",
  "imageManifestMediaType",
  "acceptedMediaTypes",
  "layerDigests",
  "uploadId",
  "partFirstByte",
  "partLastByte",
  "layerPartBlob",
  "layerDigest",
  "maxResults",
  "nextToken",
  "filter",
  "policyText",
  "lifecyclePolicyText",
  "tags",
  "tagKeys",
  "resourceArn",
  "ecrRepositoryPrefix",
  "upstreamRegistryUrl",
  "upstreamRegistry",
  "credentialArn",
  "imageTagMutability",
  "imageTagMutabilityExclusionFilters",
  "imageScanningConfiguration",
  "encryptionConfiguration",
  "force",
  "force",
  "force",
  "upstreamRepositoryPrefix",
  "customRoleArn",
];

/** One random ECR body: usually an object of API fields, sometimes not an object at all. */
function ecrBody(f: Fuzzer): string {
  switch (f.int(12)) {
    case 0:
      return f.text(f.int(40));
    case 1:
      return JSON.stringify(hostileValue(f));
    case 2:
      return "[".repeat(3000) + "]".repeat(3000);
    case 3:
      return `{"__proto__": {"repositoryName": "fuzz/app"}, "repositoryName": ${JSON.stringify(f.pick(["fuzz/app", "__proto__"]))}}`;
    case 4:
      return "";
    default: {
      const body: Record<string, unknown> = {};
      for (let i = f.int(6); i >= 0; i--)
        body[f.pick(ECR_FIELDS)] = f.chance(0.4) ? f.pick(["fuzz/app", "fuzz", "latest"]) : hostileValue(f);
      return JSON.stringify(body);
    }
  }
}

async function ecrRequest(
  target: string,
  body: string,
  credentials = {
    accessKeyId: env.REGISTRY_ADMIN_ACCESS_KEY_ID,
    secretAccessKey: env.REGISTRY_ADMIN_SECRET_ACCESS_KEY,
  },
): Promise<Response> {
  const url = new URL(ORIGIN);
  const signer = new SignatureV4({ service: "ecr", region: "us-east-1", credentials, sha256: WebCryptoSha256 });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      path: "/",
      query: {},
      headers: { host: url.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": target },
      body,
    },
    { signingDate: new Date() },
  );
  return exports.default.fetch(
    new Request(`${ORIGIN}/`, { method: "POST", headers: signed.headers as Record<string, string>, body }),
  );
}

interface Failure {
  request: string;
  status: number;
  body: string;
}

/**
 * Records a 5xx, a body that never ends, or an error answer without the error body its
 * surface promises. False when the fuzzing must stop (a hung answer holds what it holds).
 */
async function check(
  failures: Failure[],
  request: string,
  response: Response,
  method: string,
  surface: "oci" | "aws" | "any",
): Promise<boolean> {
  const body = await withDeadline(bodyText(response), DEADLINE_MS);
  if (body === null) {
    failures.push({ request, status: response.status, body: `the body did not end within ${DEADLINE_MS} ms` });
    return false;
  }
  if (response.status >= 500) {
    failures.push({ request, status: response.status, body: body.slice(0, 300) });
    return true;
  }
  if (response.status < 400 || method === "HEAD" || surface === "any") return true;
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(body);
  } catch {
    // falls through to the failure below
  }
  const wellFormed =
    surface === "aws"
      ? typeof (parsed as { __type?: unknown } | null)?.__type === "string"
      : Array.isArray((parsed as { errors?: unknown } | null)?.errors) &&
        typeof (parsed as { errors: { code?: unknown }[] }).errors[0]?.code === "string";
  if (!wellFormed)
    failures.push({ request, status: response.status, body: `malformed error body: ${body.slice(0, 300)}` });
  return true;
}

/** Which error body a path promises, judged after URL normalisation (`/v2/%2e%2e/x` is `/x`). */
function surfaceOf(target: string): "oci" | "any" {
  return new URL(target, ORIGIN).pathname.startsWith("/v2") ? "oci" : "any";
}

/** How long one answer may take, head and body, before the fuzzer calls it hung. */
const DEADLINE_MS = 20_000;

/** The body as text, decoded here: workerd warns when `.text()` meets AWS JSON's content type. */
async function bodyText(response: Response): Promise<string> {
  return new TextDecoder().decode(await response.arrayBuffer());
}

/** The promise's value, or null when it has not settled within `ms`. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function report(failures: Failure[]): string {
  return failures
    .slice(0, 10)
    .map((f) => `${f.request} -> ${f.status} ${f.body}`)
    .join("\n");
}

let image: { digest: string; manifest: Record<string, unknown> };

beforeEach(async () => {
  image = await pushImage("fuzz/app", "latest");
}, 60_000);

describe("fuzzed /v2 requests", () => {
  const REQUESTS = 250;

  function reference(f: Fuzzer): string {
    return f.pick([
      "latest",
      "v1.0",
      "x".repeat(128),
      "x".repeat(129),
      "-bad",
      ".bad",
      "UPPER_ok",
      image.digest,
      `sha256:${HEX64}`,
      `sha256:${HEX64.toUpperCase()}`,
      "sha256:abc",
      `sha512:${"b".repeat(128)}`,
      `md5:${"c".repeat(32)}`,
      "sha256+b64:AAAA",
      "%00",
      "%2e%2e",
      "%ZZ",
      encodeURIComponent(f.text(6)),
      ...PROTOTYPE_NAMES,
    ]);
  }

  function name(f: Fuzzer): string {
    return f.pick([
      "fuzz/app",
      "fuzz",
      "other",
      "a",
      "UPPER",
      "a//b",
      "a/../b",
      "-a",
      "a-",
      "x".repeat(256),
      "%2e%2e",
      "a%00b",
      "\u00e9",
      "a/b/c/d/e/f",
      ...PROTOTYPE_NAMES,
    ]);
  }

  function path(f: Fuzzer, uploads: string[]): string {
    const repo = name(f);
    switch (f.int(9)) {
      case 0:
        return `/v2/${repo}/manifests/${reference(f)}`;
      case 1:
        return `/v2/${repo}/blobs/${reference(f)}`;
      case 2:
        return `/v2/${repo}/blobs/uploads/`;
      case 3:
        return uploads.length > 0 && f.chance(0.7)
          ? f.pick(uploads)
          : `/v2/${repo}/blobs/uploads/${f.pick(["00000000-0000-0000-0000-000000000000", "x", f.text(8), "..", "%2F"])}`;
      case 4:
        return `/v2/${repo}/tags/list`;
      case 5:
        return `/v2/${repo}/referrers/${reference(f)}`;
      case 6:
        return f.pick([
          "/v2/",
          "/v2",
          "/v2/_catalog",
          "/",
          "/v2/_catalog/x",
          "/v2//",
          "/admin",
          "/token",
          "/v3/x",
          "/favicon.ico",
        ]);
      case 7:
        return `/v2/${f.text(f.int(30)).replace(/[?#]/g, "")}`;
      default:
        return `/v2/${repo}/${f.pick(["manifests", "blobs", "tags", "referrers", "blobs/uploads"])}`;
    }
  }

  function query(f: Fuzzer): string {
    if (f.chance(0.5)) return "";
    const parts: string[] = [];
    for (let i = f.int(3); i >= 0; i--) {
      const key = f.pick(["n", "last", "digest", "mount", "from", "artifactType", "n", "__proto__"]);
      const value = f.pick([
        "-1",
        "0",
        "1",
        "abc",
        "1e10",
        "99999999999999999999",
        "",
        image.digest,
        `sha256:${HEX64}`,
        "fuzz/app",
        "..",
        f.text(5),
      ]);
      parts.push(`${key}=${encodeURIComponent(value)}`);
    }
    return `?${parts.join("&")}`;
  }

  function headers(f: Fuzzer, bearer: string): Headers {
    const out = new Headers();
    // Mostly a token (what clients send), some Basic (each costs a PBKDF2 check), some junk.
    const kind = f.next();
    if (kind < 0.65) out.set("Authorization", `Bearer ${bearer}`);
    else if (kind < 0.85) out.set("Authorization", adminAuthorization());
    else
      out.set(
        "Authorization",
        f.pick([
          "Basic",
          "Basic !!!",
          `Basic ${btoa("a:b")}`,
          "Bearer",
          "Bearer a.b.c",
          "Negotiate x",
          f.text(10).replace(/[^\x20-\x7e]/g, "x"),
        ]),
      );
    if (f.chance(0.5)) {
      out.set(
        "Content-Type",
        f.pick([
          "application/vnd.oci.image.manifest.v1+json",
          "application/vnd.oci.image.index.v1+json",
          "application/vnd.docker.distribution.manifest.v2+json",
          "application/vnd.docker.distribution.manifest.list.v2+json",
          "application/octet-stream",
          "text/plain",
          "application/json; charset=utf-8",
          "x/y",
        ]),
      );
    }
    if (f.chance(0.3))
      out.set(
        "Content-Range",
        f.pick(["0-99", "0-0", "5-1", "-5", "bytes=0-9", "99999999999999999999-1", "0-9007199254740993", "x-y", "0-"]),
      );
    if (f.chance(0.2))
      out.set(
        "Range",
        f.pick(["bytes=0-0", "bytes=5-1", "bytes=-5", "bytes=0-", "bytes=99999999999-", "items=0-1", "bytes=0-1,3-4"]),
      );
    if (f.chance(0.2)) out.set("Accept", f.pick(["*/*", "application/vnd.oci.image.index.v1+json", "text/html", ""]));
    return out;
  }

  function body(f: Fuzzer, method: string): Uint8Array | null {
    if (method === "GET" || method === "HEAD" || f.chance(0.3)) return null;
    switch (f.int(6)) {
      case 0:
        return f.bytes(f.int(2048));
      case 1:
        return new Uint8Array(0);
      case 2: {
        const mutated: Record<string, unknown> = structuredClone(image.manifest);
        for (let i = f.int(3); i >= 0; i--)
          mutated[
            f.pick([
              "config",
              "layers",
              "mediaType",
              "schemaVersion",
              "subject",
              "manifests",
              "annotations",
              "artifactType",
            ])
          ] = hostileValue(f);
        return bytesOf(JSON.stringify(mutated));
      }
      case 3:
        return bytesOf(JSON.stringify(hostileValue(f)));
      case 4:
        return bytesOf(`{"schemaVersion":2,"layers":${"[".repeat(2000)}${"]".repeat(2000)}}`);
      default:
        return bytesOf(
          JSON.stringify({
            ...image.manifest,
            layers: [
              {
                mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
                digest: f.pick([`sha256:${HEX64}`, image.digest, "sha256:zz"]),
                size: f.pick([0, -1, 2 ** 53, 1.5, "1"]),
              },
            ],
          }),
        );
    }
  }

  // Few requests per isolate: each request in the test isolate leaves it a little slower for
  // the next (answers to 404s took ~1 s after ~900 fuzzed requests, before issue 12's changes
  // too; not yet explained), so the replay is bounded rather than the 20,000 of the survey.
  it(`answers ${REQUESTS} random requests for each of 2 seeds without a 5xx`, { timeout: 300_000 }, async () => {
    const failures: Failure[] = [];
    for (const seed of [1, 2]) {
      const f = new Fuzzer(seed);
      const uploads: string[] = [];
      const bearer = await fetchToken(
        ["fuzz/app", "fuzz", "other", "a", "a/b/c/d/e/f"]
          .map((repo) => `repository:${repo}:pull,push,delete`)
          .concat("registry:catalog:*"),
        adminAuthorization(),
      );
      for (let i = 0; i < REQUESTS; i++) {
        const method = f.pick([
          "GET",
          "GET",
          "HEAD",
          "PUT",
          "PUT",
          "POST",
          "POST",
          "PATCH",
          "PATCH",
          "DELETE",
          "OPTIONS",
          "PROPFIND",
        ]);
        const target = path(f, uploads) + query(f);
        const requestBody = body(f, method);
        let response: Response;
        try {
          const answer = exports.default.fetch(
            new Request(`${ORIGIN}${target}`, {
              method,
              headers: headers(f, bearer),
              body: requestBody,
              redirect: "manual",
            }),
          );
          const answered = await withDeadline(answer, DEADLINE_MS);
          if (answered === null) {
            failures.push({
              request: `#${i} ${method} ${target}`,
              status: 0,
              body: `no answer within ${DEADLINE_MS} ms`,
            });
            break;
          }
          response = answered;
        } catch (error) {
          // Only a URL the Request constructor itself refuses may throw; the Worker must not.
          if (error instanceof TypeError && /URL|method/i.test(error.message)) continue;
          throw error;
        }
        const location = response.headers.get("Location");
        if (response.status === 202 && location?.startsWith("/v2/") && uploads.length < 50) uploads.push(location);
        if (
          !(await check(
            failures,
            `#${i} ${method} ${target} (${requestBody?.length ?? "no"} body bytes)`,
            response,
            method,
            surfaceOf(target),
          ))
        )
          break;
      }
    }
    expect(failures.length, report(failures)).toBe(0);
  });
});

describe("fuzzed ECR calls", () => {
  const CALLS = 150;
  for (const seed of [7, 8]) {
    it(
      `answers ${CALLS} random signed calls (seed ${seed}) without a 5xx, unknown targets as UnknownOperationException`,
      { timeout: 300_000 },
      async () => {
        const f = new Fuzzer(seed);
        const failures: Failure[] = [];
        for (let i = 0; i < CALLS; i++) {
          const action = f.chance(0.8)
            ? f.pick(SUPPORTED_ACTIONS)
            : f.pick([
                ...PROTOTYPE_NAMES,
                "",
                "Nope",
                "createRepository",
                "Create Repository",
                f.text(8).replace(/[^\x21-\x7e]/g, "x"),
              ]);
          const target = f.chance(0.95)
            ? `${TARGET_PREFIX}${action}`
            : f.pick([
                "",
                "AmazonEC2ContainerRegistry_V20150921",
                "Other_V1.CreateRepository",
                `${TARGET_PREFIX}${action}.x`,
              ]);
          const requestBody = ecrBody(f);
          const response = await withDeadline(ecrRequest(target, requestBody), DEADLINE_MS);
          if (response === null) {
            failures.push({
              request: `#${i} ${target} ${requestBody.slice(0, 200)}`,
              status: 0,
              body: `no answer within ${DEADLINE_MS} ms`,
            });
            break;
          }
          if (
            !SUPPORTED_ACTIONS.includes(action) ||
            !target.startsWith(TARGET_PREFIX) ||
            target !== `${TARGET_PREFIX}${action}`
          ) {
            const text = await bodyText(response.clone());
            expect(response.status, `${target}: ${text}`).toBe(400);
            expect((JSON.parse(text) as { __type: string }).__type, `${target}: ${text}`).toBe(
              "UnknownOperationException",
            );
          }
          if (!(await check(failures, `#${i} ${target} ${requestBody.slice(0, 200)}`, response, "POST", "aws"))) break;
        }
        expect(failures.length, report(failures)).toBe(0);
      },
    );
  }

  it("refuses every Object.prototype member as a target", async () => {
    for (const name of PROTOTYPE_NAMES) {
      const response = await ecrRequest(`${TARGET_PREFIX}${name}`, "{}");
      const text = await bodyText(response);
      expect(response.status, `${name}: ${text}`).toBe(400);
      expect((JSON.parse(text) as { __type: string }).__type).toBe("UnknownOperationException");
    }
  });
});

describe("authentication attacks", () => {
  async function forgedTokens(f: Fuzzer): Promise<string[]> {
    const header = (value: object) =>
      btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: SERVICE,
      aud: SERVICE,
      sub: "arn:aws:iam::123456789012:user/admin",
      iat: now,
      exp: now + 300,
      access: [{ type: "repository", name: "fuzz/app", actions: ["pull", "push"] }],
    };
    const stranger = await generateKeyPair("ES256");
    const strangerJwk = await exportJWK(stranger.publicKey);
    const genuine = await fetchToken(["repository:fuzz/app:pull"], adminAuthorization());
    const [h, p, s] = genuine.split(".") as [string, string, string];
    return [
      `${header({ alg: "none", typ: "JWT" })}.${header(claims)}.`,
      `${header({ alg: "HS256", typ: "JWT" })}.${header(claims)}.${s}`,
      `${h}.${header(claims)}.${s}`,
      `${h}.${p}.${s.slice(0, -2)}AA`,
      `${h}.${p}`,
      `${h}..${s}`,
      `${header({ alg: "ES256", jwk: strangerJwk, kid: "x" })}.${header(claims)}.${s}`,
      await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "unknown" }).sign(stranger.privateKey),
      await new SignJWT({ ...claims, iat: now + 86_400 })
        .setProtectedHeader({ alg: "ES256" })
        .sign(stranger.privateKey),
      `${header({ alg: "ES256", kid: "../../etc/passwd" })}.${header(claims)}.${s}`,
      `${header({ alg: "ES256", crit: ["x"] })}.${header(claims)}.${s}`,
      "a".repeat(20_000),
      f.text(40).replace(/[^\x21-\x7e]/g, "x"),
    ];
  }

  it(
    "answers random /token requests (up to 200 scopes, odd services and grants) without a 5xx",
    { timeout: 300_000 },
    async () => {
      const f = new Fuzzer(13);
      const failures: Failure[] = [];
      for (let i = 0; i < 120; i++) {
        const query = new URLSearchParams();
        if (f.chance(0.9)) query.set("service", f.pick([SERVICE, "", "other", f.text(5)]));
        const scopeCount = f.pick([0, 1, 2, 5, 99, 100, 101, 150, 200]);
        for (let s = 0; s < scopeCount; s++) {
          query.append(
            "scope",
            f.pick([
              `repository:fuzz/app-${s}:pull`,
              `repository:fuzz/app:${f.pick(["pull", "push", "pull,push", "*", "delete", ""])}`,
              "registry:catalog:*",
              "repository::pull",
              "repository:a:b:c:pull",
              `repository:${"x".repeat(300)}:pull`,
              f.text(12),
              "repository:UPPER:pull",
              "repository:__proto__:pull",
            ]),
          );
        }
        if (f.chance(0.2)) query.set("offline_token", f.pick(["true", "1", "yes"]));
        if (f.chance(0.2)) query.set("account", f.text(6));
        const authorization = f.pick([
          undefined,
          adminAuthorization(),
          "Basic x",
          `Basic ${btoa("AKIAXXXXXXXXXXXXXXXX:y")}`,
          "Bearer x.y.z",
        ]);
        const post = f.chance(0.25);
        const response = post
          ? await call("POST", "/token", {
              anonymous: authorization === undefined,
              headers: {
                "Content-Type": f.pick(["application/x-www-form-urlencoded", "application/json", "text/plain"]),
                ...(authorization ? { Authorization: authorization } : {}),
              },
              body: f.pick([
                `grant_type=password&username=${env.REGISTRY_ADMIN_ACCESS_KEY_ID}&password=wrong&service=${SERVICE}`,
                `grant_type=refresh_token&refresh_token=${f.text(20)}&service=${SERVICE}&scope=repository:fuzz/app:pull`,
                `grant_type=${f.text(5)}`,
                f.text(50),
                "",
                `grant_type=password&${"scope=repository:a:pull&".repeat(150)}`,
              ]),
            })
          : await call(
              "GET",
              `/token?${query.toString()}`,
              authorization === undefined ? { anonymous: true } : { headers: { Authorization: authorization } },
            );
        await check(
          failures,
          `#${i} ${post ? "POST" : "GET"} /token scopes=${scopeCount}`,
          response,
          post ? "POST" : "GET",
          "any",
        );
      }
      expect(failures.length, report(failures)).toBe(0);
    },
  );

  // Last: its wrong passwords for the admin's key id throttle that key (and this address).
  it(
    "never answers a forged or malformed credential with anything but a 401/400/403/429",
    { timeout: 300_000 },
    async () => {
      const f = new Fuzzer(11);
      const failures: Failure[] = [];
      const tokens = await forgedTokens(f);
      const authorizations = [
        ...tokens.map((token) => `Bearer ${token}`),
        "Basic",
        "Basic =",
        "Basic ====",
        `Basic ${btoa("no-colon")}`,
        `Basic ${btoa(":")}`,
        `Basic ${btoa(`${env.REGISTRY_ADMIN_ACCESS_KEY_ID}:wrong`)}`,
        `Basic ${btoa(`${env.REGISTRY_ADMIN_ACCESS_KEY_ID}:${env.REGISTRY_ADMIN_SECRET_ACCESS_KEY}x`)}`,
        basicAuthorization("AKIA" + "A".repeat(16), "x".repeat(40)),
        `Basic ${btoa("x".repeat(10_000) + ":y")}`,
        "Basic \u00ff\u00fe",
        "AWS4-HMAC-SHA256 Credential=x",
        "Bearer",
        "bearer  x",
      ];
      for (const authorization of authorizations) {
        for (const [method, target] of [
          ["GET", "/v2/fuzz/app/manifests/latest"],
          ["HEAD", "/v2/fuzz/app/manifests/latest"],
          ["POST", "/v2/fuzz/app/blobs/uploads/"],
          ["GET", "/admin/users"],
        ] as const) {
          const response = await call(method, target, { headers: { Authorization: authorization } });
          if (![400, 401, 403, 429].includes(response.status))
            failures.push({
              request: `${method} ${target} ${authorization.slice(0, 60)}`,
              status: response.status,
              body: (await bodyText(response)).slice(0, 200),
            });
          else
            await check(
              failures,
              `${method} ${target} ${authorization.slice(0, 60)}`,
              response,
              method,
              surfaceOf(target),
            );
        }
      }
      expect(failures.length, report(failures)).toBe(0);
    },
  );
});
