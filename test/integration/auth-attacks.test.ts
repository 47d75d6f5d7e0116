/**
 * Attacks on authentication: forged, expired, misdirected and tampered tokens, keys that are
 * not configured, revoked credentials, path-traversal scopes, and tokens of one use presented
 * for the other. Each must be refused with the right status and code, must not write
 * anything, and must never echo a secret or a token back.
 */
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { ecrCall } from "../support/ecr";
import {
  accessOf,
  adminCall,
  allowPolicy,
  basicAuthorization,
  bearerAuthorization,
  bytesOf,
  call,
  createUser,
  digestOf,
  fetchToken,
  grantedActions,
  OCI_MANIFEST,
  ORIGIN,
  pushImage,
  randomBytes,
  repositoryArnOf,
  requestToken,
  SERVICE,
  startSession,
  userArnOf,
  type TokenBody,
} from "../support/registry";

const REPO = "team-a/app";
const OTHER = "team-b/app";
const PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

// ---- Secrets that must never be echoed -----------------------------------------------------

const sensitive = new Set<string>();

function remember(...values: string[]): void {
  for (const value of values) if (value.length >= 8) sensitive.add(value);
}

beforeEach(() => {
  sensitive.clear();
  remember(env.REGISTRY_ADMIN_SECRET_ACCESS_KEY, signingJwk().d ?? "", rotatedJwk().d ?? "");
});

/** Asserts no remembered secret or token (nor a token's signature) appears in the response. */
function expectNoLeak(text: string, headers: Headers): void {
  const exposed = `${text}\n${[...headers.entries()].map(([k, v]) => `${k}: ${v}`).join("\n")}`;
  for (const secret of sensitive) {
    expect(exposed.includes(secret), `response exposes a secret or token: ${exposed}`).toBe(false);
    const signature = secret.split(".")[2];
    if (signature && signature.length >= 16)
      expect(exposed.includes(signature), "response exposes a token signature").toBe(false);
  }
}

/** Asserts a refusal: status, error code (for non-HEAD), and no leaked secret. Returns the body text. */
async function refused(response: Response, status: number, code: string, method = "GET"): Promise<string> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expectNoLeak(text, response.headers);
  if (method === "HEAD") {
    expect(text).toBe("");
  } else {
    const body = JSON.parse(text) as { errors: { code: string }[] };
    expect(body.errors[0]?.code, text).toBe(code);
  }
  return text;
}

// ---- Token construction --------------------------------------------------------------------

function signingJwk(): JWK {
  return JSON.parse(env.REGISTRY_TOKEN_SIGNING_KEY) as JWK;
}

function rotatedJwk(): JWK {
  return JSON.parse(env.TEST_ROTATED_SIGNING_KEY) as JWK;
}

function publicOf(jwk: JWK): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: jwk.kid };
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64urlJson(value: unknown): string {
  return base64url(bytesOf(JSON.stringify(value)));
}

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** The claims the registry puts in a token, for the admin with push and pull on REPO. */
function registryClaims(overrides: JWTPayload = {}): JWTPayload {
  const t = now();
  return {
    iss: "edge-registry",
    aud: SERVICE,
    sub: userArnOf("admin"),
    uid: "bootstrap-admin",
    iat: t,
    nbf: t,
    exp: t + 300,
    jti: crypto.randomUUID(),
    use: "registry",
    access: [{ type: "repository", name: REPO, actions: ["pull", "push"] }],
    ...overrides,
  };
}

/** Signs claims as given (no defaults added by jose) with an ES256 JWK; `kid: null` omits it. */
async function signEs256(
  claims: JWTPayload,
  jwk: JWK,
  header: { kid?: string | null; jwk?: JWK } = {},
): Promise<string> {
  const key = await importJWK(jwk, "ES256");
  const kid = header.kid === undefined ? jwk.kid : header.kid;
  const protectedHeader: { alg: string; typ: string; kid?: string; jwk?: JWK } = { alg: "ES256", typ: "JWT" };
  if (kid !== null && kid !== undefined) protectedHeader.kid = kid;
  if (header.jwk) protectedHeader.jwk = header.jwk;
  return new SignJWT(claims).setProtectedHeader(protectedHeader).sign(key);
}

/** A JWT assembled by hand: header and payload as given, signature bytes as given. */
function handBuilt(
  header: Record<string, unknown>,
  payload: JWTPayload,
  signature: Uint8Array = new Uint8Array(),
): string {
  return `${base64urlJson(header)}.${base64urlJson(payload)}.${base64url(signature)}`;
}

async function hs256(header: Record<string, unknown>, payload: JWTPayload, secret: Uint8Array): Promise<string> {
  const input = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, bytesOf(input)));
  return `${input}.${base64url(signature)}`;
}

async function attackerKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  return exportJWK(privateKey);
}

// ---- Checks shared by the token attacks ----------------------------------------------------

function withBearer(token: string): RequestInit {
  return { headers: { Authorization: bearerAuthorization(token) } };
}

/** Admin view: does the manifest exist? */
async function manifestStatus(name: string, reference: string): Promise<number> {
  return (await call("HEAD", `/v2/${name}/manifests/${reference}`)).status;
}

async function blobStatus(name: string, digest: string): Promise<number> {
  return (await call("HEAD", `/v2/${name}/blobs/${digest}`)).status;
}

/** 200 if the repository exists, 404 if not (asked through ECR's DescribeRepositories). */
async function repositoryStatus(name: string): Promise<number> {
  const result = await ecrCall("DescribeRepositories", { repositoryNames: [name] });
  return result.type === "RepositoryNotFoundException" ? 404 : result.status;
}

/** A token the registry must refuse outright: 401 invalid_token on reads and writes, HEAD without a body. */
async function expectInvalidToken(token: string): Promise<void> {
  remember(token);
  const get = await call("GET", `/v2/${REPO}/manifests/v1`, withBearer(token));
  const challenge = get.headers.get("WWW-Authenticate");
  await refused(get, 401, "UNAUTHORIZED");
  expect(challenge).toBe(`Bearer realm="${ORIGIN}/token",service="${SERVICE}",error="invalid_token"`);

  const head = await call("HEAD", `/v2/${REPO}/manifests/v1`, withBearer(token));
  await refused(head, 401, "UNAUTHORIZED", "HEAD");
  expect(head.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');

  await refused(await call("GET", "/v2/", withBearer(token)), 401, "UNAUTHORIZED");

  // Writes: a blob to a repository that does not exist yet, and a tag in one that does.
  const blob = randomBytes(64);
  const digest = await digestOf(blob);
  await refused(
    await call("POST", `/v2/${OTHER}/blobs/uploads/?digest=${digest}`, { ...withBearer(token), body: blob }),
    401,
    "UNAUTHORIZED",
  );
  await refused(await call("POST", `/v2/${REPO}/blobs/uploads/`, withBearer(token)), 401, "UNAUTHORIZED");
  const manifest = bytesOf(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }));
  await refused(
    await call("PUT", `/v2/${REPO}/manifests/forged`, {
      headers: { Authorization: bearerAuthorization(token), "Content-Type": OCI_MANIFEST },
      body: manifest,
    }),
    401,
    "UNAUTHORIZED",
  );
  await refused(await call("DELETE", `/v2/${REPO}/manifests/v1`, withBearer(token)), 401, "UNAUTHORIZED");
  expect(await repositoryStatus(OTHER)).toBe(404);
  expect(await manifestStatus(REPO, "forged")).toBe(404);
  expect(await manifestStatus(REPO, "v1")).toBe(200);
}

async function expectAccepted(token: string): Promise<void> {
  const response = await call("GET", `/v2/${REPO}/manifests/v1`, {
    headers: { Authorization: bearerAuthorization(token), Accept: OCI_MANIFEST },
  });
  expect(response.status, await response.clone().text()).toBe(200);
  await response.body?.cancel();
}

// ---- Tests ---------------------------------------------------------------------------------

describe("forged and invalid bearer tokens", () => {
  beforeEach(async () => {
    await pushImage(REPO, "v1");
  });

  it("accepts the control token these attacks are derived from", async () => {
    // Proves the construction below is otherwise valid, so each refusal is due to the one defect.
    await expectAccepted(await signEs256(registryClaims(), signingJwk()));
    await expectAccepted(
      await fetchToken(
        [`repository:${REPO}:pull`],
        basicAuthorization(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY),
      ),
    );
  });

  const kid = (): string => signingJwk().kid!;
  const cases: { name: string; build: () => string | Promise<string> }[] = [
    { name: "alg none, empty signature", build: () => handBuilt({ alg: "none", typ: "JWT" }, registryClaims()) },
    {
      name: "alg none with the configured kid",
      build: () => handBuilt({ alg: "none", typ: "JWT", kid: kid() }, registryClaims()),
    },
    { name: "alg NONE (case variant)", build: () => handBuilt({ alg: "NONE", kid: kid() }, registryClaims()) },
    {
      name: "alg none carrying a real ES256 signature",
      build: async () => {
        const real = (await signEs256(registryClaims(), signingJwk())).split(".");
        return `${base64urlJson({ alg: "none", kid: kid() })}.${real[1]}.${real[2]}`;
      },
    },
    {
      name: "HS256 keyed with the public JWK's JSON",
      build: async () =>
        hs256(
          { alg: "HS256", typ: "JWT", kid: kid() },
          registryClaims(),
          bytesOf(JSON.stringify(publicOf(signingJwk()))),
        ),
    },
    {
      name: "HS256 keyed with the published JWKS entry's JSON",
      build: async () => {
        const jwks = await (await call("GET", "/.well-known/jwks.json", { anonymous: true })).json<{ keys: JWK[] }>();
        const published = jwks.keys.find((k) => k.kid === kid());
        return hs256({ alg: "HS256", typ: "JWT", kid: kid() }, registryClaims(), bytesOf(JSON.stringify(published)));
      },
    },
    {
      name: "HS256 keyed with the raw x||y bytes",
      build: async () => {
        const jwk = signingJwk();
        const xy = new Uint8Array([...fromBase64url(jwk.x!), ...fromBase64url(jwk.y!)]);
        return hs256({ alg: "HS256", typ: "JWT", kid: kid() }, registryClaims(), xy);
      },
    },
    {
      name: "HS256 keyed with the uncompressed point 04||x||y",
      build: async () => {
        const jwk = signingJwk();
        const point = new Uint8Array([4, ...fromBase64url(jwk.x!), ...fromBase64url(jwk.y!)]);
        return hs256({ alg: "HS256", typ: "JWT", kid: kid() }, registryClaims(), point);
      },
    },
    {
      name: "HS256 keyed with the public key's SPKI",
      build: async () => {
        const key = await crypto.subtle.importKey(
          "jwk",
          { ...publicOf(signingJwk()), kid: undefined } as JsonWebKey,
          { name: "ECDSA", namedCurve: "P-256" },
          true,
          ["verify"],
        );
        const spki = new Uint8Array((await crypto.subtle.exportKey("spki", key)) as ArrayBuffer);
        return hs256({ alg: "HS256", typ: "JWT", kid: kid() }, registryClaims(), spki);
      },
    },
    {
      name: "expired (exp in the past)",
      build: async () =>
        signEs256(registryClaims({ iat: now() - 600, nbf: now() - 600, exp: now() - 60 }), signingJwk()),
    },
    {
      name: "not yet valid (nbf in the future)",
      build: async () => signEs256(registryClaims({ nbf: now() + 3600, exp: now() + 3900 }), signingJwk()),
    },
    {
      name: "issued in the future",
      build: async () =>
        signEs256(registryClaims({ iat: now() + 3600, nbf: now() + 3600, exp: now() + 3900 }), signingJwk()),
    },
    // nbf and exp valid, only iat ahead: beyond the 60 s of clock skew allowed.
    {
      name: "iat an hour ahead (nbf and exp valid)",
      build: async () => signEs256(registryClaims({ iat: now() + 3600 }), signingJwk()),
    },
    {
      name: "iat 2 minutes ahead (nbf and exp valid)",
      build: async () => signEs256(registryClaims({ iat: now() + 120 }), signingJwk()),
    },
    { name: "without exp", build: async () => signEs256(registryClaims({ exp: undefined }), signingJwk()) },
    { name: "wrong aud", build: async () => signEs256(registryClaims({ aud: "other-registry" }), signingJwk()) },
    { name: "aud missing", build: async () => signEs256(registryClaims({ aud: undefined }), signingJwk()) },
    { name: "wrong iss", build: async () => signEs256(registryClaims({ iss: "evil-issuer" }), signingJwk()) },
    { name: "iss missing", build: async () => signEs256(registryClaims({ iss: undefined }), signingJwk()) },
    { name: "no declared use", build: async () => signEs256(registryClaims({ use: undefined }), signingJwk()) },
    {
      name: "use: login carrying access",
      build: async () => signEs256(registryClaims({ use: "login" }), signingJwk()),
    },
    {
      name: "malformed access claim",
      build: async () => signEs256(registryClaims({ access: `repository:${REPO}:pull` }), signingJwk()),
    },
    {
      name: "tampered payload (access widened, signature kept)",
      build: async () => {
        const genuine = await signEs256(
          registryClaims({ access: [{ type: "repository", name: REPO, actions: [] }] }),
          signingJwk(),
        );
        const [header, , signature] = genuine.split(".");
        const widened = registryClaims({
          access: [{ type: "repository", name: REPO, actions: ["pull", "push", "delete"] }],
        });
        return `${header}.${base64urlJson(widened)}.${signature}`;
      },
    },
    {
      name: "tampered payload (subject changed, signature kept)",
      build: async () => {
        const genuine = await signEs256(registryClaims(), signingJwk());
        const [header, payload = "", signature] = genuine.split(".");
        const claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload))) as JWTPayload;
        return `${header}.${base64urlJson({ ...claims, sub: userArnOf("someone-else") })}.${signature}`;
      },
    },
    {
      name: "truncated signature",
      build: async () => {
        const genuine = await signEs256(registryClaims(), signingJwk());
        return genuine.slice(0, -6);
      },
    },
    {
      name: "signature removed",
      build: async () => {
        const [header, payload] = (await signEs256(registryClaims(), signingJwk())).split(".");
        return `${header}.${payload}.`;
      },
    },
    {
      name: "signature bytes flipped",
      build: async () => {
        const [header, payload, signature = ""] = (await signEs256(registryClaims(), signingJwk())).split(".");
        const bytes = fromBase64url(signature);
        bytes[10] = bytes[10]! ^ 0xff;
        return `${header}.${payload}.${base64url(bytes)}`;
      },
    },
    { name: "not a JWT at all", build: () => "not-a-token" },
    { name: "empty", build: () => "" },
    {
      name: "two segments",
      build: () => `${base64urlJson({ alg: "ES256", kid: kid() })}.${base64urlJson(registryClaims())}`,
    },
    {
      name: "signed by an unconfigured key with its own kid",
      build: async () => signEs256(registryClaims(), await attackerKey(), { kid: "attacker-key" }),
    },
    {
      name: "signed by an unconfigured key claiming the configured kid",
      build: async () => signEs256(registryClaims(), await attackerKey(), { kid: kid() }),
    },
    {
      name: "signed by an unconfigured key claiming the rotated key's kid",
      build: async () => signEs256(registryClaims(), await attackerKey(), { kid: rotatedJwk().kid! }),
    },
    {
      name: "signed by an unconfigured key embedded in the header (jwk)",
      build: async () => {
        const attacker = await attackerKey();
        return signEs256(registryClaims(), attacker, { kid: kid(), jwk: publicOf(attacker) });
      },
    },
    {
      name: "signed by an unconfigured key without kid",
      build: async () => signEs256(registryClaims(), await attackerKey(), { kid: null }),
    },
    {
      name: "signed by the rotated key but claiming the signing key's kid",
      build: async () => signEs256(registryClaims(), rotatedJwk(), { kid: kid() }),
    },
  ];

  it.each(cases)("refuses a token: $name", async ({ build }) => {
    await expectInvalidToken(await build());
  });

  it("accepts a token whose iat is ahead of the clock by less than the allowed skew", async () => {
    await expectAccepted(await signEs256(registryClaims({ iat: now() + 30 }), signingJwk()));
  });

  it("refuses a login token (the password of user AWS) issued in the future", async () => {
    const claims = { ...registryClaims({ iat: now() + 3600, use: "login" }), access: undefined };
    const token = await signEs256(claims, signingJwk());
    remember(token);
    await refused(
      await requestToken([`repository:${REPO}:pull`], basicAuthorization("AWS", token)),
      401,
      "UNAUTHORIZED",
    );
    // The same claims issued now are a working login token: the refusal is due to iat alone.
    const genuine = await signEs256({ ...claims, iat: now() }, signingJwk());
    expect(
      grantedActions(await fetchToken([`repository:${REPO}:pull`], basicAuthorization("AWS", genuine)), REPO),
    ).toEqual(["pull"]);
  });

  it("accepts a token signed with the rotated-out key still listed for verification", async () => {
    const rotated = rotatedJwk();
    expect(rotated.kid).not.toBe(signingJwk().kid);
    const token = await signEs256(
      registryClaims({ access: [{ type: "repository", name: REPO, actions: ["pull", "push"] }] }),
      rotated,
    );
    await expectAccepted(token);
    // And it authorizes writes as its access says.
    const session = await call("POST", `/v2/${REPO}/blobs/uploads/`, withBearer(token));
    expect(session.status, await session.clone().text()).toBe(202);
  });

  it("answers HEAD requests with bad tokens with 401 and no body", async () => {
    const image = await pushImage(REPO, "v2");
    const config = (image.manifest.config as { digest: string }).digest;
    const bad = [
      handBuilt({ alg: "none" }, registryClaims()),
      await signEs256(registryClaims({ exp: now() - 10, nbf: now() - 400, iat: now() - 400 }), signingJwk()),
      await signEs256(registryClaims(), await attackerKey()),
      "garbage",
    ];
    for (const token of bad) {
      remember(token);
      for (const path of [`/v2/${REPO}/manifests/v2`, `/v2/${REPO}/blobs/${config}`, `/v2/${REPO}/tags/list`]) {
        const response = await call("HEAD", path, withBearer(token));
        await refused(response, 401, "UNAUTHORIZED", "HEAD");
        expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm=/);
      }
    }
  });
});

describe("tokens used beyond their grant", () => {
  it("refuses a token for repository A on repository B with insufficient_scope, writing nothing", async () => {
    await pushImage(OTHER, "v1");
    const token = await fetchToken(
      [`repository:${REPO}:pull,push`],
      basicAuthorization(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY),
    );
    remember(token);
    expect(grantedActions(token, REPO)).toEqual(["pull", "push"]);

    const get = await call("GET", `/v2/${OTHER}/manifests/v1`, withBearer(token));
    const challenge = get.headers.get("WWW-Authenticate");
    await refused(get, 401, "UNAUTHORIZED");
    expect(challenge).toBe(
      `Bearer realm="${ORIGIN}/token",service="${SERVICE}",scope="repository:${OTHER}:pull",error="insufficient_scope"`,
    );

    const push = await call("POST", `/v2/${OTHER}/blobs/uploads/`, withBearer(token));
    const pushChallenge = push.headers.get("WWW-Authenticate");
    await refused(push, 401, "UNAUTHORIZED");
    expect(pushChallenge).toBe(
      `Bearer realm="${ORIGIN}/token",service="${SERVICE}",scope="repository:${OTHER}:pull,push",error="insufficient_scope"`,
    );

    const manifest = await call("GET", `/v2/${OTHER}/manifests/v1`);
    const bytes = new Uint8Array(await manifest.arrayBuffer());
    await refused(
      await call("PUT", `/v2/${OTHER}/manifests/stolen`, {
        headers: { Authorization: bearerAuthorization(token), "Content-Type": OCI_MANIFEST },
        body: bytes,
      }),
      401,
      "UNAUTHORIZED",
    );
    await refused(await call("DELETE", `/v2/${OTHER}/manifests/v1`, withBearer(token)), 401, "UNAUTHORIZED");
    expect(await manifestStatus(OTHER, "stolen")).toBe(404);
    expect(await manifestStatus(OTHER, "v1")).toBe(200);
  });

  it("refuses pushes and deletes with a pull-only token of a user: 403 DENIED, nothing written", async () => {
    const image = await pushImage(REPO, "v1");
    const user = await createUser("puller", allowPolicy(["ecr:*"], [repositoryArnOf(REPO)]));
    remember(user.secretAccessKey);
    const token = await fetchToken([`repository:${REPO}:pull`], user.authorization);
    remember(token);
    expect(grantedActions(token, REPO)).toEqual(["pull"]);
    expect(accessOf(token)).toHaveLength(1);

    // Pull works.
    await expectAccepted(token);

    // Upload start, monolithic upload, upload session continuation, manifest PUT, deletes.
    await refused(await call("POST", `/v2/${REPO}/blobs/uploads/`, withBearer(token)), 403, "DENIED");
    const blob = randomBytes(128);
    const digest = await digestOf(blob);
    await refused(
      await call("POST", `/v2/${REPO}/blobs/uploads/?digest=${digest}`, { ...withBearer(token), body: blob }),
      403,
      "DENIED",
    );
    const location = await startSession(REPO);
    await refused(
      await call("PATCH", location, {
        body: blob,
        headers: { Authorization: bearerAuthorization(token), "Content-Type": "application/octet-stream" },
      }),
      403,
      "DENIED",
    );
    await refused(
      await call("PUT", `${location}?digest=${digest}`, {
        headers: { Authorization: bearerAuthorization(token) },
        body: blob,
      }),
      403,
      "DENIED",
    );
    expect(await blobStatus(REPO, digest)).toBe(404);

    await refused(
      await call("PUT", `/v2/${REPO}/manifests/evil`, {
        headers: { Authorization: bearerAuthorization(token), "Content-Type": OCI_MANIFEST },
        body: image.bytes,
      }),
      403,
      "DENIED",
    );
    expect(await manifestStatus(REPO, "evil")).toBe(404);
    await refused(await call("DELETE", `/v2/${REPO}/manifests/${image.digest}`, withBearer(token)), 403, "DENIED");
    expect(await manifestStatus(REPO, "v1")).toBe(200);
  });
});

describe("revoked and wrong Basic credentials", () => {
  beforeEach(async () => {
    await pushImage(REPO, "v1");
  });

  async function expectBasicRefused(authorization: string): Promise<void> {
    const v2 = await call("GET", `/v2/${REPO}/manifests/v1`, { headers: { Authorization: authorization } });
    const challenge = v2.headers.get("WWW-Authenticate");
    await refused(v2, 401, "UNAUTHORIZED");
    expect(challenge).toMatch(/^Bearer realm=/);
    await refused(await call("GET", "/v2/", { headers: { Authorization: authorization } }), 401, "UNAUTHORIZED");
    await refused(await requestToken([`repository:${REPO}:pull`], authorization), 401, "UNAUTHORIZED");
    await refused(await adminCall("GET", "/admin/users", undefined, authorization), 401, "UNAUTHORIZED");
  }

  async function expectBasicAccepted(authorization: string): Promise<void> {
    const v2 = await call("GET", `/v2/${REPO}/manifests/v1`, {
      headers: { Authorization: authorization, Accept: OCI_MANIFEST },
    });
    expect(v2.status, await v2.clone().text()).toBe(200);
    await v2.body?.cancel();
    expect(grantedActions(await fetchToken([`repository:${REPO}:pull`], authorization), REPO)).toEqual(["pull"]);
  }

  it("refuses an access key once it is deleted, at /v2 and at /token", async () => {
    const user = await createUser("rotating", allowPolicy(PULL_ACTIONS));
    remember(user.secretAccessKey);
    await expectBasicAccepted(user.authorization);
    // The POST /token password grant too.
    const form = new URLSearchParams({
      grant_type: "password",
      username: user.accessKeyId,
      password: user.secretAccessKey,
      service: SERVICE,
    });
    const before = await call("POST", "/token", { anonymous: true, body: form });
    expect(before.status).toBe(200);

    const deleted = await call("DELETE", `/admin/users/rotating/access-keys/${user.accessKeyId}`);
    expect(deleted.status).toBe(204);
    await expectBasicRefused(user.authorization);
    await refused(await call("POST", "/token", { anonymous: true, body: form }), 401, "UNAUTHORIZED");
  });

  it("refuses a wrong secret for a user's key and for the bootstrap admin's key", async () => {
    const user = await createUser("wrong-secret", allowPolicy(PULL_ACTIONS));
    // Each wrong secret is tried on 4 surfaces; one key per variant keeps every key under the
    // failed-login throttle (10 per key per window), which would answer 429 instead of 401.
    const second = await createUser("wrong-secret-2", allowPolicy(PULL_ACTIONS));
    const third = await createUser("wrong-secret-3", allowPolicy(PULL_ACTIONS));
    remember(user.secretAccessKey, second.secretAccessKey, third.secretAccessKey);
    const wrong = `${user.secretAccessKey.slice(0, -1)}${user.secretAccessKey.endsWith("A") ? "B" : "A"}`;
    remember(wrong);
    for (const authorization of [
      basicAuthorization(user.accessKeyId, wrong),
      basicAuthorization(second.accessKeyId, ""),
      basicAuthorization(third.accessKeyId, `${third.secretAccessKey}x`),
      basicAuthorization(env.REGISTRY_ADMIN_ACCESS_KEY_ID, wrong),
      basicAuthorization(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY.slice(0, -1)),
      basicAuthorization("admin", env.REGISTRY_ADMIN_SECRET_ACCESS_KEY),
      basicAuthorization("AKIANOSUCHKEY0000000", user.secretAccessKey),
      basicAuthorization(user.secretAccessKey, user.accessKeyId),
    ]) {
      await expectBasicRefused(authorization);
    }
    // A malformed Basic value and an unknown scheme are refused too.
    await refused(
      await call("GET", "/v2/", { headers: { Authorization: "Basic !!!not-base64" } }),
      401,
      "UNAUTHORIZED",
    );
    await refused(
      await call("GET", "/v2/", { headers: { Authorization: `Basic ${btoa("no-colon")}` } }),
      401,
      "UNAUTHORIZED",
    );
    await refused(
      await call("GET", "/v2/", { headers: { Authorization: `Digest ${user.secretAccessKey}` } }),
      401,
      "UNAUTHORIZED",
    );
    // The right secret still works afterwards.
    await expectBasicAccepted(user.authorization);
    await expectBasicAccepted(third.authorization);
  });

  it("refuses the keys of a deleted user, and the user's login token", async () => {
    const user = await createUser("leaver", allowPolicy([...PULL_ACTIONS, "ecr:GetAuthorizationToken"]));
    remember(user.secretAccessKey);
    const login = await adminCall("GET", "/admin/authorization-token", undefined, user.authorization);
    expect(login.status).toBe(200);
    const authorizationToken = (await login.json<{ authorizationToken: string }>()).authorizationToken;
    remember(authorizationToken, atob(authorizationToken).slice("AWS:".length));
    await expectBasicAccepted(user.authorization);
    await expectBasicAccepted(`Basic ${authorizationToken}`);

    const deleted = await call("DELETE", "/admin/users/leaver");
    expect(deleted.status).toBe(204);
    await expectBasicRefused(user.authorization);
    await expectBasicRefused(`Basic ${authorizationToken}`);

    // A new user of the same name does not inherit the old keys.
    await createUser("leaver");
    await expectBasicRefused(user.authorization);
  });

  it("does not let a new user of the same name inherit the deleted user's login token", async () => {
    await pushImage(REPO, "v1");
    const user = await createUser("reused", allowPolicy([...PULL_ACTIONS, "ecr:GetAuthorizationToken"]));
    remember(user.secretAccessKey);
    const login = await adminCall("GET", "/admin/authorization-token", undefined, user.authorization);
    const authorizationToken = (await login.json<{ authorizationToken: string }>()).authorizationToken;
    remember(authorizationToken, atob(authorizationToken).slice("AWS:".length));
    expect((await call("DELETE", "/admin/users/reused")).status).toBe(204);
    await expectBasicRefused(`Basic ${authorizationToken}`);
    // Someone else is given the name (and permissions) later: the old credential must stay dead.
    await createUser("reused", allowPolicy(["ecr:*"]));
    await expectBasicRefused(`Basic ${authorizationToken}`);
  });
});

describe("tokens of one use presented as the other", () => {
  it("refuses a registry token as the password of user AWS, and as a refresh token", async () => {
    await pushImage(REPO, "v1");
    const user = await createUser("mixer", allowPolicy([...PULL_ACTIONS, "ecr:GetAuthorizationToken"]));
    remember(user.secretAccessKey);
    const registryToken = await fetchToken([`repository:${REPO}:pull`], user.authorization);
    remember(registryToken);
    const asLogin = basicAuthorization("AWS", registryToken);
    await refused(await call("GET", "/v2/", { headers: { Authorization: asLogin } }), 401, "UNAUTHORIZED");
    await refused(
      await call("GET", `/v2/${REPO}/manifests/v1`, { headers: { Authorization: asLogin } }),
      401,
      "UNAUTHORIZED",
    );
    await refused(await requestToken([`repository:${REPO}:pull`], asLogin), 401, "UNAUTHORIZED");
    await refused(
      await call("POST", "/token", {
        anonymous: true,
        body: new URLSearchParams({
          grant_type: "password",
          username: "AWS",
          password: registryToken,
          service: SERVICE,
        }),
      }),
      401,
      "UNAUTHORIZED",
    );
    await refused(
      await call("POST", "/token", {
        anonymous: true,
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: registryToken,
          service: SERVICE,
          scope: `repository:${REPO}:pull`,
        }),
      }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("refuses a login token (and a refresh token) as a Bearer token", async () => {
    await pushImage(REPO, "v1");
    const user = await createUser("mixer", allowPolicy([...PULL_ACTIONS, "ecr:GetAuthorizationToken"]));
    remember(user.secretAccessKey);
    const login = await adminCall("GET", "/admin/authorization-token", undefined, user.authorization);
    const password = atob((await login.json<{ authorizationToken: string }>()).authorizationToken).slice("AWS:".length);
    // It is a valid login: user AWS with it pulls.
    const asBasic = await call("GET", `/v2/${REPO}/manifests/v1`, {
      headers: { Authorization: basicAuthorization("AWS", password), Accept: OCI_MANIFEST },
    });
    expect(asBasic.status).toBe(200);
    await asBasic.body?.cancel();
    await expectInvalidToken(password);

    const offline = await call("POST", "/token", {
      anonymous: true,
      body: new URLSearchParams({
        grant_type: "password",
        username: user.accessKeyId,
        password: user.secretAccessKey,
        service: SERVICE,
        access_type: "offline",
      }),
    });
    const refresh = (await offline.json<TokenBody>()).refresh_token;
    expect(refresh).toBeTypeOf("string");
    await expectInvalidToken(refresh!);
  });
});

describe("path-traversal repository names in scopes", () => {
  const traversal = [
    "repository:../etc:pull",
    "repository:a/../b:push",
    "repository:..%2Fx:pull",
    "repository:team-a/../team-b/app:pull,push",
    "repository:/etc/passwd:pull",
  ];

  it("never grants them, whatever the caller may do", async () => {
    const admin = basicAuthorization(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY);
    for (const authorization of [admin, undefined]) {
      // As separate parameters, as one space-separated parameter, and alongside a valid scope.
      for (const scopes of [traversal, [traversal.join(" ")], [...traversal, `repository:${REPO}:pull`]]) {
        const response = await requestToken(scopes, authorization);
        expect(response.status, await response.clone().text()).toBe(200);
        const token = (await response.json<TokenBody>()).token;
        const names = accessOf(token).map((entry) => entry.name);
        expect(names).toEqual(scopes.includes(`repository:${REPO}:pull`) ? [REPO] : []);
      }
    }
    // `..%2Fx` sent raw in the query string (decoded by the server to `../x`), and double-encoded.
    for (const query of [
      "scope=repository:..%2Fx:pull",
      "scope=repository:..%252Fx:pull",
      "scope=repository:%2e%2e/x:pull",
    ]) {
      const response = await call("GET", `/token?service=${SERVICE}&${query}`);
      expect(response.status).toBe(200);
      expect(accessOf((await response.json<TokenBody>()).token)).toEqual([]);
    }
  });

  it("cannot be used to reach another repository", async () => {
    await pushImage(OTHER, "v1");
    const admin = basicAuthorization(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY);
    const token = await fetchToken([`repository:team-a/../${OTHER}:pull,push`, "repository:../etc:pull"], admin);
    remember(token);
    expect(accessOf(token)).toEqual([]);
    // The URL parser resolves the dot segments: the request names team-b/app, which the token does not.
    const resolved = await call("GET", `/v2/team-a/../${OTHER}/manifests/v1`, withBearer(token));
    await refused(resolved, 401, "UNAUTHORIZED");
    const encoded = await call("GET", `/v2/team-a/%2e%2e/${OTHER}/manifests/v1`, withBearer(token));
    await refused(encoded, 401, "UNAUTHORIZED");
    const push = await call("POST", `/v2/team-a/../${OTHER}/blobs/uploads/`, withBearer(token));
    await refused(push, 401, "UNAUTHORIZED");
    // An escaped slash is not a separator: the name is invalid.
    await refused(await call("GET", `/v2/..%2Fetc/manifests/v1`, withBearer(token)), 400, "NAME_INVALID");
    await refused(await call("POST", `/v2/..%2F${OTHER}/blobs/uploads/`, withBearer(token)), 400, "NAME_INVALID");
    expect(await repositoryStatus("etc")).toBe(404);

    // Even a token that names a traversal path (only the registry could sign one) reaches nothing.
    const forged = await signEs256(
      registryClaims({ access: [{ type: "repository", name: `../${OTHER}`, actions: ["pull", "push"] }] }),
      signingJwk(),
    );
    await refused(await call("GET", `/v2/..%2F${OTHER}/manifests/v1`, withBearer(forged)), 400, "NAME_INVALID");
    await refused(await call("GET", `/v2/${OTHER}/manifests/v1`, withBearer(forged)), 401, "UNAUTHORIZED");
  });
});
