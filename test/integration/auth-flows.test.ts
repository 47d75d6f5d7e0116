/**
 * Authentication and authorization flows as clients see them: the anonymous challenge, the
 * token service's grants (the intersection of what is asked and what policy allows), the
 * OAuth2 form, JWKS, Basic credentials and `docker login -u AWS`, identity and repository
 * policies (deny over allow, repository-only grants, public repositories, resource-tag
 * conditions), the filtered catalog, cross-repository mounts, and the admin API's checks.
 */
import { env } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { parsePolicyDocument } from "../../src/auth/policy/document";
import { ecrCall } from "../support/ecr";
import {
  accessOf,
  adminCall,
  adminAuthorization,
  allowPolicy,
  basicAuthorization,
  bearerAuthorization,
  call,
  createRepository,
  createUser,
  digestOf,
  expectError,
  fetchToken,
  grantedActions,
  OCI_MANIFEST,
  ORIGIN,
  pushBlob,
  pushImage,
  putRepositoryPolicy,
  randomBytes,
  repositoryArnOf,
  requestToken,
  SERVICE,
  userArnOf,
  type TokenBody,
} from "../support/registry";

const PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];
const PUSH = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:InitiateLayerUpload",
  "ecr:UploadLayerPart",
  "ecr:CompleteLayerUpload",
  "ecr:PutImage",
];
const REALM = `Bearer realm="${ORIGIN}/token",service="${SERVICE}"`;

function as(authorization: string, init: RequestInit = {}): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("Authorization", authorization);
  return { ...init, headers };
}

async function status(response: Response): Promise<number> {
  await response.body?.cancel();
  return response.status;
}

async function tokenBody(response: Response): Promise<TokenBody> {
  expect(response.status, await response.clone().text()).toBe(200);
  return await response.json<TokenBody>();
}

function postToken(fields: Record<string, string>): Promise<Response> {
  return call("POST", "/token", { anonymous: true, body: new URLSearchParams(fields) });
}

/** What the anonymous caller is challenged with on /v2. */
describe("anonymous challenge", () => {
  it("challenges /v2/ without a scope", async () => {
    const response = await call("GET", "/v2/", { anonymous: true });
    expect(response.headers.get("WWW-Authenticate")).toBe(REALM);
    expect(response.headers.get("Docker-Distribution-API-Version")).toBe("registry/2.0");
    await expectError(response, 401, "UNAUTHORIZED");
  });

  const digest = `sha256:${"a".repeat(64)}`;
  const cases: { method: string; path: string; scope: string }[] = [
    { method: "GET", path: "/v2/team-a/app/manifests/latest", scope: "repository:team-a/app:pull" },
    { method: "HEAD", path: "/v2/team-a/app/manifests/latest", scope: "repository:team-a/app:pull" },
    { method: "GET", path: `/v2/team-a/app/blobs/${digest}`, scope: "repository:team-a/app:pull" },
    { method: "HEAD", path: `/v2/team-a/app/blobs/${digest}`, scope: "repository:team-a/app:pull" },
    { method: "GET", path: "/v2/team-a/app/tags/list", scope: "repository:team-a/app:pull" },
    { method: "GET", path: `/v2/team-a/app/referrers/${digest}`, scope: "repository:team-a/app:pull" },
    { method: "POST", path: "/v2/team-a/app/blobs/uploads/", scope: "repository:team-a/app:pull,push" },
    { method: "PUT", path: "/v2/team-a/app/manifests/latest", scope: "repository:team-a/app:pull,push" },
    { method: "DELETE", path: "/v2/team-a/app/manifests/latest", scope: "repository:team-a/app:delete" },
    { method: "DELETE", path: `/v2/team-a/app/blobs/${digest}`, scope: "repository:team-a/app:delete" },
    { method: "GET", path: "/v2/_catalog", scope: "registry:catalog:*" },
  ];

  it.each(cases)("challenges $method $path with scope $scope", async ({ method, path, scope }) => {
    const response = await call(method, path, { anonymous: true });
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBe(`${REALM},scope="${scope}"`);
    if (method === "HEAD") expect(await response.text()).toBe("");
    else await expectError(response, 401, "UNAUTHORIZED");
  });

  it("follows the challenge to a token and back (docker's flow)", async () => {
    const { digest: manifestDigest } = await pushImage("team-a/app", "v1");
    const user = await createUser("reader", allowPolicy(PULL, [repositoryArnOf("team-a/*")]));

    const challenged = await call("GET", "/v2/team-a/app/manifests/v1", { anonymous: true });
    const header = challenged.headers.get("WWW-Authenticate")!;
    await challenged.body?.cancel();
    const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    expect(params.realm).toBe(`${ORIGIN}/token`);

    // Anonymous token for a private repository: it names the repository with no actions, and
    // the registry asks the client to authenticate (401, not 403).
    const realmPath = `${new URL(params.realm!).pathname}?service=${encodeURIComponent(params.service!)}&scope=${encodeURIComponent(params.scope!)}`;
    const anonymous = await tokenBody(await call("GET", realmPath, { anonymous: true }));
    expect(grantedActions(anonymous.token, "team-a/app")).toEqual([]);
    const retryAnonymous = await call("GET", "/v2/team-a/app/manifests/v1", as(bearerAuthorization(anonymous.token)));
    expect(retryAnonymous.headers.get("WWW-Authenticate")).toBe(
      `${REALM},scope="repository:team-a/app:pull",error="insufficient_scope"`,
    );
    await expectError(retryAnonymous, 401, "UNAUTHORIZED");

    const authenticated = await tokenBody(await call("GET", realmPath, as(user.authorization)));
    const retry = await call(
      "GET",
      "/v2/team-a/app/manifests/v1",
      as(bearerAuthorization(authenticated.token), { headers: { Accept: OCI_MANIFEST } }),
    );
    expect(retry.status).toBe(200);
    expect(retry.headers.get("Docker-Content-Digest")).toBe(manifestDigest);
    await retry.body?.cancel();
  });
});

describe("token service grants", () => {
  const teamAPull = allowPolicy(PULL, [repositoryArnOf("team-a/*")]);

  it("issues an ES256 token with the documented response and claims", async () => {
    const user = await createUser("alice", teamAPull);
    const before = Math.floor(Date.now() / 1000);
    const body = await tokenBody(await requestToken(["repository:team-a/app:pull"], user.authorization));
    expect(body.token).toBe(body.access_token);
    expect(body.expires_in).toBe(300);
    expect(body.scope).toBe("repository:team-a/app:pull");
    expect(Math.abs(Date.parse(body.issued_at) / 1000 - before)).toBeLessThan(5);

    const header = decodeProtectedHeader(body.token);
    expect(header.alg).toBe("ES256");
    expect(header.kid).toBe((JSON.parse(env.REGISTRY_TOKEN_SIGNING_KEY) as JWK).kid);
    const claims = decodeJwt(body.token);
    expect(claims.iss).toBe("edge-registry");
    expect(claims.aud).toBe(SERVICE);
    expect(claims.sub).toBe(userArnOf("alice"));
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(claims.access).toEqual([{ type: "repository", name: "team-a/app", actions: ["pull"] }]);
  });

  const cases: { title: string; scopes: string[]; expected: Record<string, string[]> }[] = [
    {
      title: "pull,push on an allowed repository gives pull",
      scopes: ["repository:team-a/app:pull,push"],
      expected: { "team-a/app": ["pull"] },
    },
    {
      title: "* on an allowed repository gives pull",
      scopes: ["repository:team-a/app:*"],
      expected: { "team-a/app": ["pull"] },
    },
    { title: "push alone gives nothing", scopes: ["repository:team-a/app:push"], expected: { "team-a/app": [] } },
    {
      title: "a repository outside the policy gives nothing",
      scopes: ["repository:team-b/app:pull,push"],
      expected: { "team-b/app": [] },
    },
    {
      title: "repeated scope parameters are each granted",
      scopes: ["repository:team-a/app:pull", "repository:team-a/lib:pull,push", "repository:team-b/app:pull"],
      expected: { "team-a/app": ["pull"], "team-a/lib": ["pull"], "team-b/app": [] },
    },
    {
      title: "space-separated scopes in one parameter are each granted",
      scopes: ["repository:team-a/app:pull repository:team-b/app:pull"],
      expected: { "team-a/app": ["pull"], "team-b/app": [] },
    },
    {
      title: "the same repository in two parameters is merged",
      scopes: ["repository:team-a/app:push", "repository:team-a/app:pull"],
      expected: { "team-a/app": ["pull"] },
    },
    {
      title: "unknown actions are ignored",
      scopes: ["repository:team-a/app:pull,admin,write"],
      expected: { "team-a/app": ["pull"] },
    },
  ];

  it.each(cases)("user allowed pull on team-a/*: $title", async ({ scopes, expected }) => {
    const user = await createUser("alice", teamAPull);
    const body = await tokenBody(await requestToken(scopes, user.authorization));
    for (const [name, actions] of Object.entries(expected))
      expect(grantedActions(body.token, name), name).toEqual(actions);
    expect(
      accessOf(body.token)
        .filter((entry) => entry.type === "repository")
        .map((entry) => entry.name)
        .sort(),
    ).toEqual(Object.keys(expected).sort());
  });

  it("grants the bootstrap admin everything asked, merging repeated scopes", async () => {
    const body = await tokenBody(
      await requestToken(["repository:x/y:pull", "repository:x/y:push", "repository:x/z:*"], adminAuthorization()),
    );
    expect(grantedActions(body.token, "x/y").sort()).toEqual(["pull", "push"]);
    expect(grantedActions(body.token, "x/z").sort()).toEqual(["delete", "pull", "push"]);
    expect(decodeJwt(body.token).sub).toBe(userArnOf("admin"));
  });

  it("answers an empty grant with 200, and a token without scopes", async () => {
    const user = await createUser("nobody");
    const empty = await tokenBody(await requestToken(["repository:team-a/app:pull,push,delete"], user.authorization));
    expect(grantedActions(empty.token, "team-a/app")).toEqual([]);
    const none = await tokenBody(await requestToken([], user.authorization));
    expect(none.scope).toBe("");
    expect(accessOf(none.token)).toEqual([]);
    const anonymous = await tokenBody(await requestToken([]));
    expect(decodeJwt(anonymous.token).sub).toBe("");
  });

  it("refuses invalid credentials and another service", async () => {
    const user = await createUser("alice", teamAPull);
    const wrong = await requestToken(["repository:team-a/app:pull"], basicAuthorization(user.accessKeyId, "wrong"));
    expect(wrong.headers.get("WWW-Authenticate")).toBe(`Basic realm="${ORIGIN}/token"`);
    await expectError(wrong, 401, "UNAUTHORIZED");
    await expectError(
      await requestToken(["repository:team-a/app:pull"], user.authorization, "other-registry"),
      403,
      "DENIED",
    );
    await expectError(await requestToken([], undefined, "other-registry"), 403, "DENIED");
    await expectError(
      await postToken({
        grant_type: "password",
        username: user.accessKeyId,
        password: user.secretAccessKey,
        service: "other-registry",
      }),
      403,
      "DENIED",
    );
  });
});

describe("POST /token (OAuth2 form)", () => {
  it("grants with a password, issues a refresh token offline, and grants again with it", async () => {
    const user = await createUser("alice", allowPolicy([...PULL, ...PUSH], [repositoryArnOf("team-a/*")]));
    const online = await tokenBody(
      await postToken({
        grant_type: "password",
        username: user.accessKeyId,
        password: user.secretAccessKey,
        service: SERVICE,
        scope: "repository:team-a/app:pull,push",
      }),
    );
    expect(online.refresh_token).toBeUndefined();
    expect(grantedActions(online.token, "team-a/app")).toEqual(["pull", "push"]);
    expect(online.expires_in).toBe(300);

    const offline = await tokenBody(
      await postToken({
        grant_type: "password",
        username: user.accessKeyId,
        password: user.secretAccessKey,
        service: SERVICE,
        scope: "repository:team-a/app:pull",
        access_type: "offline",
      }),
    );
    expect(offline.refresh_token).toBeTypeOf("string");
    expect(decodeJwt(offline.refresh_token!).sub).toBe(user.arn);

    const refreshed = await tokenBody(
      await postToken({
        grant_type: "refresh_token",
        refresh_token: offline.refresh_token!,
        service: SERVICE,
        scope: "repository:team-a/app:pull,push repository:team-b/app:pull",
      }),
    );
    expect(decodeJwt(refreshed.token).sub).toBe(user.arn);
    expect(grantedActions(refreshed.token, "team-a/app")).toEqual(["pull", "push"]);
    expect(grantedActions(refreshed.token, "team-b/app")).toEqual([]);

    // The refreshed token works on /v2.
    const session = await call("POST", "/v2/team-a/app/blobs/uploads/", as(bearerAuthorization(refreshed.token)));
    expect(await status(session)).toBe(202);
  });

  const invalid: {
    title: string;
    fields: (user: { accessKeyId: string; secretAccessKey: string }) => Record<string, string>;
  }[] = [
    {
      title: "wrong password",
      fields: (u) => ({ grant_type: "password", username: u.accessKeyId, password: `${u.secretAccessKey}x` }),
    },
    {
      title: "unknown user",
      fields: (u) => ({ grant_type: "password", username: "AKIAUNKNOWN000000000", password: u.secretAccessKey }),
    },
    { title: "missing password", fields: (u) => ({ grant_type: "password", username: u.accessKeyId }) },
    { title: "garbage refresh token", fields: () => ({ grant_type: "refresh_token", refresh_token: "garbage" }) },
    { title: "missing refresh token", fields: () => ({ grant_type: "refresh_token" }) },
  ];

  it.each(invalid)("refuses $title with 401", async ({ fields }) => {
    const user = await createUser("alice", allowPolicy(PULL));
    const response = await postToken({ ...fields(user), service: SERVICE, scope: "repository:team-a/app:pull" });
    expect(response.headers.get("WWW-Authenticate")).toBe(`Basic realm="${ORIGIN}/token"`);
    await expectError(response, 401, "UNAUTHORIZED");
  });
});

describe("JWKS", () => {
  it("lists the signing key and the key being rotated out, public parts only", async () => {
    const response = await call("GET", "/.well-known/jwks.json", { anonymous: true });
    expect(response.status).toBe(200);
    const jwks = await response.json<{ keys: JWK[] }>();
    const signing = JSON.parse(env.REGISTRY_TOKEN_SIGNING_KEY) as JWK;
    const rotated = JSON.parse(env.TEST_ROTATED_SIGNING_KEY) as JWK;
    expect(jwks.keys.map((key) => key.kid).sort()).toEqual([signing.kid, rotated.kid].sort());
    for (const key of jwks.keys) {
      expect(key).not.toHaveProperty("d");
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256" });
      const source = key.kid === signing.kid ? signing : rotated;
      expect({ x: key.x, y: key.y }).toEqual({ x: source.x, y: source.y });
    }
    expect(JSON.stringify(jwks)).not.toContain(signing.d!);
    expect(JSON.stringify(jwks)).not.toContain(rotated.d!);
  });
});

describe("Basic credentials and docker login -u AWS", () => {
  it("authorizes a user's access key directly on /v2", async () => {
    const { bytes } = await pushImage("team-a/app", "v1");
    const user = await createUser("alice", allowPolicy(PULL, [repositoryArnOf("team-a/*")]));
    expect(await status(await call("GET", "/v2/", as(user.authorization)))).toBe(200);
    const manifest = await call(
      "GET",
      "/v2/team-a/app/manifests/v1",
      as(user.authorization, { headers: { Accept: OCI_MANIFEST } }),
    );
    expect(manifest.status).toBe(200);
    expect(new Uint8Array(await manifest.arrayBuffer())).toEqual(bytes);
    await expectError(await call("POST", "/v2/team-a/app/blobs/uploads/", as(user.authorization)), 403, "DENIED");
    await expectError(await call("GET", "/v2/team-b/app/manifests/v1", as(user.authorization)), 403, "DENIED");
  });

  it("logs user AWS in with the authorization token for 12 hours, and refuses a garbage password", async () => {
    await pushImage("team-a/app", "v1");
    const user = await createUser("alice", allowPolicy([...PULL, "ecr:GetAuthorizationToken"]));
    const before = Date.now();
    const response = await adminCall("GET", "/admin/authorization-token", undefined, user.authorization);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = await response.json<{ authorizationToken: string; expiresAt: string; proxyEndpoint: string }>();
    expect(body.proxyEndpoint).toBe(ORIGIN);
    const twelveHours = 12 * 60 * 60 * 1000;
    expect(Math.abs(Date.parse(body.expiresAt) - before - twelveHours)).toBeLessThan(10_000);
    const decoded = atob(body.authorizationToken);
    expect(decoded.startsWith("AWS:")).toBe(true);
    const password = decoded.slice(4);
    const claims = decodeJwt(password);
    expect(claims.sub).toBe(user.arn);
    expect(claims.exp! - claims.iat!).toBe(12 * 60 * 60);

    const login = basicAuthorization("AWS", password);
    expect(`Basic ${body.authorizationToken}`).toBe(login);
    expect(await status(await call("GET", "/v2/", as(login)))).toBe(200);
    expect(
      await status(await call("GET", "/v2/team-a/app/manifests/v1", as(login, { headers: { Accept: OCI_MANIFEST } }))),
    ).toBe(200);
    // It is the user: policies apply as for the access key.
    await expectError(await call("POST", "/v2/team-a/app/blobs/uploads/", as(login)), 403, "DENIED");
    const token = await fetchToken(["repository:team-a/app:pull,push"], login);
    expect(decodeJwt(token).sub).toBe(user.arn);
    expect(grantedActions(token, "team-a/app")).toEqual(["pull"]);
    // The password grant of POST /token accepts it too.
    await tokenBody(await postToken({ grant_type: "password", username: "AWS", password, service: SERVICE }));

    for (const garbage of ["garbage", `${password}x`, password.slice(0, -10), ""]) {
      await expectError(await call("GET", "/v2/", as(basicAuthorization("AWS", garbage))), 401, "UNAUTHORIZED");
      await expectError(
        await requestToken(["repository:team-a/app:pull"], basicAuthorization("AWS", garbage)),
        401,
        "UNAUTHORIZED",
      );
    }
  });

  it("issues the bootstrap admin an authorization token too", async () => {
    const response = await adminCall("GET", "/admin/authorization-token");
    expect(response.status).toBe(200);
    const { authorizationToken } = await response.json<{ authorizationToken: string }>();
    expect(await status(await call("GET", "/v2/", as(`Basic ${authorizationToken}`)))).toBe(200);
  });

  it("refuses the authorization token to a user without ecr:GetAuthorizationToken", async () => {
    const user = await createUser("alice", allowPolicy(PULL));
    await expectError(
      await adminCall("GET", "/admin/authorization-token", undefined, user.authorization),
      403,
      "DENIED",
    );
  });
});

describe("identity and repository policies", () => {
  it("lets a repository policy Deny override an identity policy's Allow", async () => {
    const original = await pushImage("team-a/app", "v1");
    const user = await createUser("bob", allowPolicy(["ecr:*"]));
    await putRepositoryPolicy("team-a/app", {
      Version: "2012-10-17",
      Statement: [{ Sid: "NoPushForBob", Effect: "Deny", Principal: { AWS: user.arn }, Action: "ecr:PutImage" }],
    });

    // With Basic credentials: the layers upload, the manifest is refused.
    const manifest = { ...original.manifest, annotations: { by: "bob" } };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest));
    const blob = randomBytes(64);
    const digest = await digestOf(blob);
    expect(
      await status(
        await call("POST", `/v2/team-a/app/blobs/uploads/?digest=${digest}`, as(user.authorization, { body: blob })),
      ),
    ).toBe(201);
    await expectError(
      await call(
        "PUT",
        "/v2/team-a/app/manifests/v2",
        as(user.authorization, { body: bytes, headers: { "Content-Type": OCI_MANIFEST } }),
      ),
      403,
      "DENIED",
    );
    await expectError(await call("GET", "/v2/team-a/app/manifests/v2"), 404, "MANIFEST_UNKNOWN");
    await expectError(await call("GET", `/v2/team-a/app/manifests/${await digestOf(bytes)}`), 404, "MANIFEST_UNKNOWN");

    // Pull still works.
    expect(
      await status(
        await call("GET", "/v2/team-a/app/manifests/v1", as(user.authorization, { headers: { Accept: OCI_MANIFEST } })),
      ),
    ).toBe(200);

    // The token service does not grant push, and a token with a subject is refused with 403.
    const token = await fetchToken(["repository:team-a/app:pull,push,delete"], user.authorization);
    expect(grantedActions(token, "team-a/app")).toEqual(["pull", "delete"]);
    await expectError(
      await call(
        "PUT",
        "/v2/team-a/app/manifests/v2",
        as(bearerAuthorization(token), { body: bytes, headers: { "Content-Type": OCI_MANIFEST } }),
      ),
      403,
      "DENIED",
    );
    await expectError(await call("GET", "/v2/team-a/app/manifests/v2"), 404, "MANIFEST_UNKNOWN");
    expect(
      await status(
        await call(
          "GET",
          "/v2/team-a/app/manifests/v1",
          as(bearerAuthorization(token), { headers: { Accept: OCI_MANIFEST } }),
        ),
      ),
    ).toBe(200);

    // Other users are unaffected by the Deny.
    const other = await createUser("carol", allowPolicy(["ecr:*"]));
    expect(
      await status(
        await call(
          "PUT",
          "/v2/team-a/app/manifests/v3",
          as(other.authorization, { body: bytes, headers: { "Content-Type": OCI_MANIFEST } }),
        ),
      ),
    ).toBe(201);
  });

  it("lets a repository policy alone allow a user without identity policies", async () => {
    await pushImage("shared/app", "v1");
    const carol = await createUser("carol");
    const dave = await createUser("dave");
    await putRepositoryPolicy("shared/app", {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: [carol.arn] }, Action: PULL }],
    });
    const cases: { user: typeof carol; pull: number; push: number; grant: string[] }[] = [
      { user: carol, pull: 200, push: 403, grant: ["pull"] },
      { user: dave, pull: 403, push: 403, grant: [] },
    ];
    for (const { user, pull, push, grant } of cases) {
      expect(
        await status(
          await call(
            "GET",
            "/v2/shared/app/manifests/v1",
            as(user.authorization, { headers: { Accept: OCI_MANIFEST } }),
          ),
        ),
        user.name,
      ).toBe(pull);
      expect(await status(await call("POST", "/v2/shared/app/blobs/uploads/", as(user.authorization))), user.name).toBe(
        push,
      );
      const token = await fetchToken(["repository:shared/app:pull,push"], user.authorization);
      expect(grantedActions(token, "shared/app"), user.name).toEqual(grant);
    }
    // Anonymous callers are not the named principal.
    expect(grantedActions(await fetchToken(["repository:shared/app:pull"]), "shared/app")).toEqual([]);
  });

  const publicPolicies: { title: string; actions: string[] }[] = [
    { title: "pull actions", actions: PULL },
    { title: "ecr:*", actions: ["ecr:*"] },
  ];

  it.each(publicPolicies)("serves a public repository ($title to *) to anonymous pulls only", async ({ actions }) => {
    const image = await pushImage("public/app", "v1");
    await putRepositoryPolicy("public/app", {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: actions }],
    });

    const body = await tokenBody(await requestToken(["repository:public/app:pull,push,delete"]));
    expect(decodeJwt(body.token).sub).toBe("");
    expect(grantedActions(body.token, "public/app")).toEqual(["pull"]);
    const bearer = bearerAuthorization(body.token);

    const manifest = await call(
      "GET",
      "/v2/public/app/manifests/v1",
      as(bearer, { headers: { Accept: OCI_MANIFEST } }),
    );
    expect(manifest.status).toBe(200);
    expect(new Uint8Array(await manifest.arrayBuffer())).toEqual(image.bytes);
    const layer = (image.manifest.layers as { digest: string }[])[0]!.digest;
    const blob = await call("GET", `/v2/public/app/blobs/${layer}`, as(bearer));
    expect(blob.status).toBe(200);
    expect(await digestOf(new Uint8Array(await blob.arrayBuffer()))).toBe(layer);

    // No push, no delete: the client is asked to authenticate.
    const upload = await call("POST", "/v2/public/app/blobs/uploads/", as(bearer));
    expect(upload.headers.get("WWW-Authenticate")).toBe(
      `${REALM},scope="repository:public/app:pull,push",error="insufficient_scope"`,
    );
    await expectError(upload, 401, "UNAUTHORIZED");
    await expectError(
      await call(
        "PUT",
        "/v2/public/app/manifests/evil",
        as(bearer, { body: image.bytes, headers: { "Content-Type": OCI_MANIFEST } }),
      ),
      401,
      "UNAUTHORIZED",
    );
    await expectError(
      await call("DELETE", `/v2/public/app/manifests/${image.digest}`, as(bearer)),
      401,
      "UNAUTHORIZED",
    );
    await expectError(await call("GET", "/v2/public/app/manifests/evil"), 404, "MANIFEST_UNKNOWN");
    expect(await status(await call("HEAD", "/v2/public/app/manifests/v1"))).toBe(200);

    // Without a token, even a public repository challenges.
    expect(await status(await call("GET", "/v2/public/app/manifests/v1", { anonymous: true }))).toBe(401);
    // Another repository stays private.
    expect(grantedActions(await fetchToken(["repository:private/app:pull"]), "private/app")).toEqual([]);
  });

  it("evaluates ecr:ResourceTag conditions against the repository's tags", async () => {
    await createRepository("team-a/app", { tags: { team: "a" } });
    await createRepository("team-b/app", { tags: { team: "b" } });
    await createRepository("untagged/app");
    for (const name of ["team-a/app", "team-b/app", "untagged/app"]) await pushImage(name, "v1");
    const user = await createUser(
      "tagged",
      allowPolicy(PULL, ["*"], { StringEquals: { "ecr:ResourceTag/team": "a" } }),
    );

    const pull = async (name: string): Promise<number> =>
      status(
        await call("GET", `/v2/${name}/manifests/v1`, as(user.authorization, { headers: { Accept: OCI_MANIFEST } })),
      );
    const table: { name: string; expected: number }[] = [
      { name: "team-a/app", expected: 200 },
      { name: "team-b/app", expected: 403 },
      { name: "untagged/app", expected: 403 },
    ];
    for (const { name, expected } of table) expect(await pull(name), name).toBe(expected);
    const token = await fetchToken(
      table.map(({ name }) => `repository:${name}:pull`),
      user.authorization,
    );
    for (const { name, expected } of table)
      expect(grantedActions(token, name), name).toEqual(expected === 200 ? ["pull"] : []);

    // Retagging takes effect at once.
    await createRepository("team-b/app", { tags: { team: "a" } });
    expect(await pull("team-b/app")).toBe(200);
    await createRepository("team-a/app", { tags: { team: "c" } });
    expect(await pull("team-a/app")).toBe(403);

    // A Deny on a tag wins over the Allow.
    const denied = await createUser("denied", {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: PULL, Resource: "*" },
        {
          Effect: "Deny",
          Action: "ecr:*",
          Resource: "*",
          Condition: { StringEquals: { "aws:ResourceTag/team": "b" } },
        },
      ],
    });
    await createRepository("team-b/app", { tags: { team: "b" } });
    expect(await status(await call("GET", "/v2/team-b/app/manifests/v1", as(denied.authorization)))).toBe(403);
    expect(
      await status(
        await call(
          "GET",
          "/v2/untagged/app/manifests/v1",
          as(denied.authorization, { headers: { Accept: OCI_MANIFEST } }),
        ),
      ),
    ).toBe(200);
  });
});

describe("catalog", () => {
  it("lists only the repositories the caller may describe", async () => {
    for (const name of ["team-a/app", "team-a/lib", "team-b/app"]) await createRepository(name);
    const teamA = await createUser(
      "team-a-reader",
      allowPolicy(["ecr:DescribeRepositories"], [repositoryArnOf("team-a/*")]),
    );
    const nobody = await createUser("nobody");
    await putRepositoryPolicy("team-b/app", {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: nobody.arn }, Action: "ecr:DescribeRepositories" }],
    });

    const catalog = async (authorization: string): Promise<string[]> => {
      const response = await call("GET", "/v2/_catalog", as(authorization));
      expect(response.status, await response.clone().text()).toBe(200);
      return (await response.json<{ repositories: string[] }>()).repositories;
    };
    const cases: { who: string; authorization: () => string | Promise<string>; expected: string[] }[] = [
      { who: "admin", authorization: () => adminAuthorization(), expected: ["team-a/app", "team-a/lib", "team-b/app"] },
      {
        who: "team-a reader (Basic)",
        authorization: () => teamA.authorization,
        expected: ["team-a/app", "team-a/lib"],
      },
      {
        who: "team-a reader (token)",
        authorization: async () => bearerAuthorization(await fetchToken(["registry:catalog:*"], teamA.authorization)),
        expected: ["team-a/app", "team-a/lib"],
      },
      {
        who: "user allowed by a repository policy",
        authorization: () => nobody.authorization,
        expected: ["team-b/app"],
      },
      {
        who: "anonymous token",
        authorization: async () => bearerAuthorization(await fetchToken(["registry:catalog:*"])),
        expected: [],
      },
    ];
    for (const { who, authorization, expected } of cases)
      expect(await catalog(await authorization()), who).toEqual(expected);
  });
});

describe("cross-repository mount", () => {
  it("mounts only when the caller may pull from the source (201), else opens an upload (202)", async () => {
    const bytes = randomBytes(256);
    const digest = await pushBlob("src/app", bytes);
    const destinationPolicy = { Effect: "Allow", Action: [...PULL, ...PUSH], Resource: [repositoryArnOf("dst/*")] };
    const withSource = await createUser("with-source", {
      Version: "2012-10-17",
      Statement: [destinationPolicy, { Effect: "Allow", Action: PULL, Resource: [repositoryArnOf("src/app")] }],
    });
    const withoutSource = await createUser("without-source", { Version: "2012-10-17", Statement: [destinationPolicy] });

    const cases: {
      title: string;
      destination: string;
      authorization: () => string | Promise<string>;
      expected: 201 | 202;
    }[] = [
      {
        title: "Basic, pull on source",
        destination: "dst/one",
        authorization: () => withSource.authorization,
        expected: 201,
      },
      {
        title: "Basic, no pull on source",
        destination: "dst/two",
        authorization: () => withoutSource.authorization,
        expected: 202,
      },
      {
        title: "token naming the source with pull",
        destination: "dst/three",
        authorization: async () =>
          bearerAuthorization(
            await fetchToken(["repository:dst/three:pull,push", "repository:src/app:pull"], withSource.authorization),
          ),
        expected: 201,
      },
      {
        title: "token not naming the source",
        destination: "dst/four",
        authorization: async () =>
          bearerAuthorization(await fetchToken(["repository:dst/four:pull,push"], withSource.authorization)),
        expected: 202,
      },
      {
        title: "token naming the source, pull refused by policy",
        destination: "dst/five",
        authorization: async () =>
          bearerAuthorization(
            await fetchToken(["repository:dst/five:pull,push", "repository:src/app:pull"], withoutSource.authorization),
          ),
        expected: 202,
      },
    ];
    for (const { title, destination, authorization, expected } of cases) {
      const response = await call(
        "POST",
        `/v2/${destination}/blobs/uploads/?mount=${digest}&from=src/app`,
        as(await authorization()),
      );
      expect(response.status, title).toBe(expected);
      await response.body?.cancel();
      if (expected === 201) {
        expect(response.headers.get("Location"), title).toBe(`/v2/${destination}/blobs/${digest}`);
        expect(await status(await call("GET", `/v2/${destination}/blobs/${digest}`)), title).toBe(200);
      } else {
        expect(response.headers.get("Location"), title).toMatch(new RegExp(`^/v2/${destination}/blobs/uploads/`));
        expect(await status(await call("HEAD", `/v2/${destination}/blobs/${digest}`)), title).toBe(404);
      }
    }
  });
});

describe("admin API authorization and validation", () => {
  it("refuses user management to a user without IAM permissions", async () => {
    const user = await createUser("ecr-only", allowPolicy(["ecr:*"]));
    const calls: { method: string; path: string; body?: unknown }[] = [
      { method: "POST", path: "/admin/users", body: { name: "mallory" } },
      { method: "GET", path: "/admin/users" },
      { method: "POST", path: "/admin/users/ecr-only/access-keys" },
      { method: "PUT", path: "/admin/users/ecr-only/policies/escalate", body: allowPolicy(["*"]) },
      { method: "DELETE", path: "/admin/users/ecr-only" },
    ];
    for (const { method, path, body } of calls) {
      await expectError(await adminCall(method, path, body, user.authorization), 403, "DENIED");
    }
    // Nothing changed: no new user, no escalated policy.
    await expectError(await adminCall("GET", "/admin/users/mallory"), 404, "NOT_FOUND");
    await expectError(await adminCall("POST", "/admin/users", { name: "x" }, user.authorization), 403, "DENIED");
    await expectError(
      await adminCall("POST", "/admin/users", { name: "x" }, basicAuthorization(user.accessKeyId, "wrong")),
      401,
      "UNAUTHORIZED",
    );
    await expectError(
      await call("POST", "/admin/users", { anonymous: true, body: JSON.stringify({ name: "x" }) }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("lets a user with iam:CreateUser create users", async () => {
    const user = await createUser("iam-admin", allowPolicy(["iam:CreateUser"], [userArnOf("team-*")]));
    expect(await status(await adminCall("POST", "/admin/users", { name: "team-x" }, user.authorization))).toBe(201);
    await expectError(await adminCall("POST", "/admin/users", { name: "other" }, user.authorization), 403, "DENIED");
  });

  const invalidPolicies: { title: string; text: string }[] = [
    { title: "not JSON", text: "{not json" },
    { title: "no Statement", text: JSON.stringify({ Version: "2012-10-17" }) },
    {
      title: "bad Version",
      text: JSON.stringify({ Version: "2020-01-01", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }),
    },
    {
      title: "bad Effect",
      text: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Maybe", Action: "*", Resource: "*" }] }),
    },
    {
      title: "bad action",
      text: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "pull", Resource: "*" }] }),
    },
    {
      title: "unknown key",
      text: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "*", Resource: "*", Extra: 1 }],
      }),
    },
    {
      title: "unknown condition operator",
      text: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "*", Resource: "*", Condition: { StringSortOf: { "aws:username": "x" } } },
        ],
      }),
    },
  ];

  it.each(invalidPolicies)(
    "rejects an identity policy with $title: 400 INVALID_REQUEST and the parser's message",
    async ({ text }) => {
      await createUser("target");
      const response = await adminCall("PUT", "/admin/users/target/policies/p", text);
      const body = await expectError(response, 400, "INVALID_REQUEST");
      expect(body.errors[0]!.message).toBe(`invalid policy document: ${parserMessage(text, "identity")}`);
    },
  );

  const invalidRepositoryPolicies: { title: string; text: string }[] = [
    ...invalidPolicies,
    {
      title: "no Principal",
      text: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ecr:BatchGetImage" }] }),
    },
    {
      title: "bad Principal",
      text: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: "bob" }, Action: "ecr:BatchGetImage" }],
      }),
    },
  ];

  it.each(invalidRepositoryPolicies)(
    "rejects a repository policy with $title: InvalidParameterException and the parser's message",
    async ({ text }) => {
      await createRepository("team-a/app");
      const response = await ecrCall("SetRepositoryPolicy", { repositoryName: "team-a/app", policyText: text });
      expect(response.type).toBe("InvalidParameterException");
      expect(response.body.message).toBe(
        `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided': ${parserMessage(text, "resource")}`,
      );
      expect((await ecrCall("GetRepositoryPolicy", { repositoryName: "team-a/app" })).type).toBe(
        "RepositoryPolicyNotFoundException",
      );
    },
  );

  it("rejects a Principal in an identity policy", async () => {
    await createUser("target");
    const text = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }],
    });
    const body = await expectError(
      await adminCall("PUT", "/admin/users/target/policies/p", text),
      400,
      "INVALID_REQUEST",
    );
    expect(body.errors[0]!.message).toBe(`invalid policy document: ${parserMessage(text, "identity")}`);
  });

  it("refuses a repository policy for a repository that does not exist", async () => {
    const policyText = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: PULL }],
    });
    expect((await ecrCall("SetRepositoryPolicy", { repositoryName: "no/such", policyText })).type).toBe(
      "RepositoryNotFoundException",
    );
  });

  it("refuses to create a user named admin, and a duplicate user", async () => {
    await expectError(await adminCall("POST", "/admin/users", { name: "admin" }), 409, "CONFLICT");
    await createUser("alice");
    await expectError(await adminCall("POST", "/admin/users", { name: "alice" }), 409, "CONFLICT");
    await expectError(await adminCall("POST", "/admin/users", { name: "bad name!" }), 400, "INVALID_REQUEST");
  });
});

/** The message the policy parser gives for a document (it must throw). */
function parserMessage(text: string, kind: "identity" | "resource"): string {
  try {
    parsePolicyDocument(text, kind);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected the parser to reject ${text}`);
}
