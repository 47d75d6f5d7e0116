import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ecrCall, type EcrResult } from "../support/ecr";
import {
  bytesOf,
  call,
  digestOf,
  expectError,
  pushBlob,
  pushImage,
  putManifestBytes,
  setImmutable,
} from "../support/registry";

const NAME = "team-a/locked";

async function manifestWithConfig(name: string, seed: number): Promise<Uint8Array> {
  const config = bytesOf(`{"seed":${seed}}`);
  const digest = await pushBlob(name, config);
  return bytesOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest, size: config.length },
      layers: [],
    }),
  );
}

describe("tag immutability", () => {
  it("refuses to move a tag in an IMMUTABLE repository, and re-pushing the same digest is idempotent", async () => {
    const { digest, bytes } = await pushImage(NAME, "v1");
    await setImmutable(NAME);
    expect((await putManifestBytes(NAME, "v1", bytes)).status).toBe(201);
    const other = await manifestWithConfig(NAME, 2);
    const body = await expectError(await putManifestBytes(NAME, "v1", other), 400, "TAG_INVALID");
    expect(body.errors[0]?.message).toMatch(/already exists.*immutable/i);
    const got = await call("GET", `/v2/${NAME}/manifests/v1`);
    expect(got.headers.get("Docker-Content-Digest")).toBe(digest);
    // A new tag is fine; so is a push by digest.
    expect((await putManifestBytes(NAME, "v2", other)).status).toBe(201);
  });

  it("lets tags move in a MUTABLE repository", async () => {
    await pushImage(NAME, "v1");
    const other = await manifestWithConfig(NAME, 3);
    expect((await putManifestBytes(NAME, "v1", other)).status).toBe(201);
    const got = await call("GET", `/v2/${NAME}/manifests/v1`);
    expect(got.headers.get("Docker-Content-Digest")).toBe(await digestOf(other));
  });

  it("lets exactly one of 20 concurrent pushes of different digests win one tag, with no partial state", async () => {
    await pushImage(NAME, "seed");
    await setImmutable(NAME);
    const candidates = await Promise.all(Array.from({ length: 20 }, (_, i) => manifestWithConfig(NAME, 100 + i)));
    const responses = await Promise.all(candidates.map((bytes) => putManifestBytes(NAME, "release", bytes)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
    for (const response of responses) {
      if (response.status === 400) await expectError(response, 400, "TAG_INVALID");
    }
    const winner = candidates[statuses.indexOf(201)]!;
    const got = await call("GET", `/v2/${NAME}/manifests/release`);
    expect(got.headers.get("Docker-Content-Digest")).toBe(await digestOf(winner));
    // Losers left nothing behind: only the seed image and the winner are stored.
    const rows = await env.DB.prepare("SELECT digest FROM manifests WHERE repository = ?")
      .bind(NAME)
      .all<{ digest: string }>();
    expect(rows.results).toHaveLength(2);
    const tags = await env.DB.prepare("SELECT tag FROM tags WHERE repository = ? ORDER BY tag")
      .bind(NAME)
      .all<{ tag: string }>();
    expect(tags.results.map((r) => r.tag)).toEqual(["release", "seed"]);
  });
});

describe("tag immutability with exclusion filters (ECR PutImageTagMutability)", () => {
  async function setMutability(name: string, setting: Record<string, unknown>): Promise<EcrResult> {
    return ecrCall("PutImageTagMutability", { repositoryName: name, ...setting });
  }

  it("IMMUTABLE_WITH_EXCLUSION: excluded tags move, the others are refused as in an IMMUTABLE repository", async () => {
    await pushImage(NAME, "latest");
    await pushImage(NAME, "v1");
    await pushImage(NAME, "dev-a");
    const set = await setMutability(NAME, {
      imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
      imageTagMutabilityExclusionFilters: [
        { filterType: "WILDCARD", filter: "latest" },
        { filterType: "WILDCARD", filter: "dev-*" },
      ],
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({
      imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
      imageTagMutabilityExclusionFilters: [
        { filterType: "WILDCARD", filter: "latest" },
        { filterType: "WILDCARD", filter: "dev-*" },
      ],
    });
    const other = await manifestWithConfig(NAME, 7);
    expect((await putManifestBytes(NAME, "latest", other)).status).toBe(201);
    expect((await putManifestBytes(NAME, "dev-a", other)).status).toBe(201);
    const body = await expectError(await putManifestBytes(NAME, "v1", other), 400, "TAG_INVALID");
    expect(body.errors[0]?.message).toMatch(/already exists.*immutable/i);
    // A new tag is set by any push; once set, it is fixed.
    expect((await putManifestBytes(NAME, "v2", other)).status).toBe(201);
    await expectError(await putManifestBytes(NAME, "v2", await manifestWithConfig(NAME, 8)), 400, "TAG_INVALID");
  });

  it("MUTABLE_WITH_EXCLUSION: only excluded tags are fixed; concurrent pushes to a fixed new tag leave one winner", async () => {
    await pushImage(NAME, "seed");
    expect(
      (
        await setMutability(NAME, {
          imageTagMutability: "MUTABLE_WITH_EXCLUSION",
          imageTagMutabilityExclusionFilters: [{ filterType: "WILDCARD", filter: "release-*" }],
        })
      ).status,
    ).toBe(200);
    expect((await putManifestBytes(NAME, "seed", await manifestWithConfig(NAME, 9))).status).toBe(201);
    const candidates = await Promise.all(Array.from({ length: 10 }, (_, i) => manifestWithConfig(NAME, 200 + i)));
    const statuses = (await Promise.all(candidates.map((bytes) => putManifestBytes(NAME, "release-1", bytes)))).map(
      (r) => r.status,
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(9);
  });

  it("invalid settings are refused with 400 and change nothing", async () => {
    await pushImage(NAME, "v1");
    expect((await setMutability(NAME, { imageTagMutability: "IMMUTABLE" })).status).toBe(200);
    for (const setting of [
      { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION" },
      { imageTagMutabilityExclusionFilters: [{ filterType: "WILDCARD", filter: "x" }] },
      {
        imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters: [{ filterType: "WILDCARD", filter: "a b" }],
      },
      { imageTagMutability: "SOMETIMES" },
    ]) {
      const response = await setMutability(NAME, setting);
      expect(response.status, JSON.stringify(setting)).toBe(400);
      expect(response.type, JSON.stringify(response.body)).toBe("InvalidParameterException");
    }
    const got = await ecrCall("DescribeRepositories", { repositoryNames: [NAME] });
    const [repository] = got.body.repositories as Record<string, unknown>[];
    expect(repository).toMatchObject({ imageTagMutability: "IMMUTABLE" });
    expect(repository).not.toHaveProperty("imageTagMutabilityExclusionFilters");
  });
});
