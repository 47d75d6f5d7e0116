/**
 * Lists from a request that reach a D1 query (issue 12, item 2): D1 allows at most 100 bound
 * parameters per statement, so every such list is either bounded where it enters (the token
 * service's scopes, ECR's 100-item lists) or bound as one parameter, whatever its length.
 * Nothing here may answer 500.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_ACTIONS_PER_SCOPE, MAX_SCOPES_PER_REQUEST } from "../../src/auth/access";
import { database, type Database } from "../../src/storage/database";
import { findPullThroughRules } from "../../src/storage/pull-through-records";
import { findRepositories, findRepositoryAccessFacts } from "../../src/storage/repository-records";
import { repositories } from "../../src/storage/schema";
import { ecr, ecrCall } from "../support/ecr";
import {
  adminAuthorization,
  call,
  grantedActions,
  pushImage,
  requestToken,
  SERVICE,
  type TokenBody,
} from "../support/registry";

/**
 * Empty repository rows written straight to D1, one statement each: a fixture (the Worker
 * creates repositories through their Durable Object only).
 */
async function seedRepository(db: Database, name: string): Promise<void> {
  await db.insert(repositories).values({ name, createdAt: Date.now() }).onConflictDoNothing();
}

function names(count: number, prefix = "many/repo"): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${String(index).padStart(3, "0")}`);
}

async function expectInvalidRequest(response: Response): Promise<string> {
  const text = await response.text();
  expect(response.status, text).toBe(400);
  expect((JSON.parse(text) as { errors: { code: string }[] }).errors[0]?.code, text).toBe("invalid_request");
  return text;
}

describe("scopes per token request", () => {
  it("refuses 101 anonymous scope parameters with 400 invalid_request (was a 500 from D1)", async () => {
    const text = await expectInvalidRequest(await requestToken(names(101).map((name) => `repository:${name}:pull`)));
    expect(text).toContain(`at most ${MAX_SCOPES_PER_REQUEST}`);
  });

  it("refuses one scope over the limit, with or without credentials, counted across parameters and spaces", async () => {
    const scopes = names(MAX_SCOPES_PER_REQUEST + 1).map((name) => `repository:${name}:pull`);
    await expectInvalidRequest(await requestToken(scopes, adminAuthorization()));
    // Several scopes in one parameter, space-separated, count one each.
    await expectInvalidRequest(await requestToken([scopes.slice(0, 30).join(" "), scopes.slice(30).join(" ")]));
    // Malformed scopes count too.
    await expectInvalidRequest(
      await requestToken(Array.from({ length: MAX_SCOPES_PER_REQUEST + 1 }, (_, i) => `junk${i}`)),
    );
  });

  it("grants every one of the allowed number of scopes", async () => {
    const repositories = names(MAX_SCOPES_PER_REQUEST);
    const response = await requestToken(
      [repositories.map((name) => `repository:${name}:pull,push`).join(" ")],
      adminAuthorization(),
    );
    expect(response.status, await response.clone().text()).toBe(200);
    const token = (await response.json<TokenBody>()).token;
    for (const name of repositories) expect(grantedActions(token, name)).toEqual(["pull", "push"]);
  });

  it("bounds the actions of one scope", async () => {
    const actions = (count: number) => Array.from({ length: count }, (_, i) => (i === 0 ? "pull" : `x${i}`)).join(",");
    await expectInvalidRequest(
      await requestToken([`repository:team-a/app:${actions(MAX_ACTIONS_PER_SCOPE + 1)}`], adminAuthorization()),
    );
    const response = await requestToken(
      [`repository:team-a/app:${actions(MAX_ACTIONS_PER_SCOPE)}`],
      adminAuthorization(),
    );
    expect(response.status, await response.clone().text()).toBe(200);
    expect(grantedActions((await response.json<TokenBody>()).token, "team-a/app")).toEqual(["pull"]);
  });

  it("applies the same bound to the OAuth2 POST form", async () => {
    const form = new URLSearchParams({
      grant_type: "password",
      service: SERVICE,
      client_id: "test",
      username: env.REGISTRY_ADMIN_ACCESS_KEY_ID,
      password: env.REGISTRY_ADMIN_SECRET_ACCESS_KEY,
      scope: names(101)
        .map((name) => `repository:${name}:pull`)
        .join(" "),
    });
    await expectInvalidRequest(
      await call("POST", "/token", {
        anonymous: true,
        body: form,
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }),
    );
  });
});

describe("storage lookups by a list of names bind the list as one parameter", () => {
  it("finds 250 repositories and their access facts in one statement each", async () => {
    const db = database(env.DB);
    const wanted = names(250);
    for (const name of wanted.filter((_, index) => index % 2 === 0)) await seedRepository(db, name);
    const rows = await findRepositories(db, wanted);
    expect(rows.map((row) => row.name).sort()).toEqual(wanted.filter((_, index) => index % 2 === 0));
    const facts = await findRepositoryAccessFacts(db, wanted);
    expect(facts.size).toBe(125);
    expect(facts.get(wanted[0]!)).toEqual({ policy: null, tags: {} });
  });

  it("finds pull-through rules by 250 prefixes", async () => {
    await ecr("CreatePullThroughCacheRule", {
      ecrRepositoryPrefix: "hub",
      upstreamRegistryUrl: "registry-1.docker.io",
    });
    const rules = await findPullThroughRules(database(env.DB), [...names(249, "prefix"), "hub"]);
    expect(rules.map((rule) => rule.prefix)).toEqual(["hub"]);
  });
});

describe("ECR's 100-item lists (ECR's own maximum) with the other parameters of their statements", () => {
  const REPO = "team-a/lists";

  it("DescribeRepositories with 100 names", async () => {
    const db = database(env.DB);
    const wanted = names(100);
    for (const name of wanted) await seedRepository(db, name);
    const result = await ecrCall("DescribeRepositories", { repositoryNames: wanted });
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect((result.body.repositories as unknown[]).length).toBe(100);
    // ECR's limit: 101 is a validation error, not a server error.
    expect((await ecrCall("DescribeRepositories", { repositoryNames: names(101) })).type).toBe(
      "InvalidParameterException",
    );
  });

  it("BatchGetImage, BatchDeleteImage, DescribeImages and BatchCheckLayerAvailability with 100 ids", async () => {
    const { digest } = await pushImage(REPO, "v1");
    const ids = [{ imageTag: "v1" }, ...Array.from({ length: 99 }, (_, i) => ({ imageTag: `missing-${i}` }))];
    const got = await ecrCall("BatchGetImage", { repositoryName: REPO, imageIds: ids });
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect((got.body.images as unknown[]).length).toBe(1);
    expect((got.body.failures as unknown[]).length).toBe(99);

    const described = await ecrCall("DescribeImages", { repositoryName: REPO, imageIds: ids });
    expect(described.status, JSON.stringify(described.body)).toBe(400);
    expect(described.type).toBe("ImageNotFoundException");

    const digests = [digest, ...Array.from({ length: 99 }, (_, i) => `sha256:${i.toString(16).padStart(64, "0")}`)];
    const layers = await ecrCall("BatchCheckLayerAvailability", { repositoryName: REPO, layerDigests: digests });
    expect(layers.status, JSON.stringify(layers.body)).toBe(200);
    expect((layers.body.layers as unknown[]).length + (layers.body.failures as unknown[]).length).toBe(100);

    const deleted = await ecrCall("BatchDeleteImage", {
      repositoryName: REPO,
      imageIds: [...digests.map((imageDigest) => ({ imageDigest }))],
    });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect((deleted.body.imageIds as unknown[]).length).toBe(1);
    expect((deleted.body.failures as unknown[]).length).toBe(99);
  });

  it("DescribePullThroughCacheRules with 100 prefixes", async () => {
    await ecr("CreatePullThroughCacheRule", {
      ecrRepositoryPrefix: "hub",
      upstreamRegistryUrl: "registry-1.docker.io",
    });
    const result = await ecrCall("DescribePullThroughCacheRules", {
      ecrRepositoryPrefixes: ["hub", ...names(99, "p")],
    });
    expect(result.status, JSON.stringify(result.body)).toBe(400);
    expect(result.type).toBe("PullThroughCacheRuleNotFoundException");
  });
});
