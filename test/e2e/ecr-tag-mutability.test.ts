/**
 * ECR's tag mutability with exclusion filters (IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION)
 * through @aws-sdk/client-ecr against the running registry: the settings as ECR's API takes and
 * reports them, and what they let move, over /v2 (manifest PUTs) and through PutImage.
 */
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  type ImageTagMutability,
  type ImageTagMutabilityExclusionFilter,
} from "@aws-sdk/client-ecr";
import { describe, expect, it } from "vitest";
import { registryFetch } from "./support/context";
import { ecrClient, expectEcrError, uniqueName } from "./support/ecr";
import { buildImage, MediaTypes, sha256, type BuiltImage } from "./support/image-builder";

const ecr = ecrClient();
const wildcard = (filter: string): ImageTagMutabilityExclusionFilter => ({ filterType: "WILDCARD", filter });

async function createRepository(
  prefix: string,
  mutability: ImageTagMutability,
  filters?: ImageTagMutabilityExclusionFilter[],
): Promise<string> {
  const name = `mutability/${uniqueName(prefix)}`;
  const { repository } = await ecr.send(
    new CreateRepositoryCommand({
      repositoryName: name,
      imageTagMutability: mutability,
      imageTagMutabilityExclusionFilters: filters,
    }),
  );
  expect(repository?.imageTagMutability).toBe(mutability);
  expect(repository?.imageTagMutabilityExclusionFilters).toEqual(filters);
  return name;
}

/** An image whose config and layer are uploaded over /v2; its manifest is not pushed. */
async function imageWithBlobs(name: string, seed: string): Promise<BuiltImage> {
  const image = buildImage({ seed: `${name}/${seed}`, layers: [{ size: 512 }] });
  for (const blob of [image.config, ...image.layers.map((layer) => layer.blob)]) {
    const started = await registryFetch("POST", `/v2/${name}/blobs/uploads/?digest=${sha256(blob.bytes)}`, {
      body: blob.bytes,
    });
    expect(started.status, await started.text()).toBe(201);
  }
  return image;
}

/** `docker push`'s last step: the manifest PUT by tag; the response's status and OCI error code. */
async function pushTag(
  name: string,
  image: BuiltImage,
  tag: string,
): Promise<{ status: number; code: string | null; message: string }> {
  const response = await registryFetch("PUT", `/v2/${name}/manifests/${tag}`, {
    body: image.manifest.bytes,
    headers: { "Content-Type": MediaTypes.OCI_MANIFEST },
  });
  const text = await response.text();
  const error =
    response.status >= 400
      ? (JSON.parse(text) as { errors: { code: string; message: string }[] }).errors[0]
      : undefined;
  return { status: response.status, code: error?.code ?? null, message: error?.message ?? "" };
}

async function tagDigest(name: string, tag: string): Promise<string | null> {
  const response = await registryFetch("HEAD", `/v2/${name}/manifests/${tag}`, {
    headers: { Accept: MediaTypes.OCI_MANIFEST },
  });
  return response.status === 200 ? response.headers.get("Docker-Content-Digest") : null;
}

/** Pushes `first` to every tag, then tries to move each tag to `second`; the tags that moved. */
async function tagsThatMove(name: string, tags: string[]): Promise<string[]> {
  const first = await imageWithBlobs(name, "first");
  const second = await imageWithBlobs(name, "second");
  for (const tag of tags) expect((await pushTag(name, first, tag)).status).toBe(201);
  const moved: string[] = [];
  for (const tag of tags) {
    const result = await pushTag(name, second, tag);
    if (result.status === 201) {
      moved.push(tag);
      expect(await tagDigest(name, tag)).toBe(second.manifest.digest);
    } else {
      // The refusal an IMMUTABLE repository gives today, and the tag stays where it was.
      expect(result).toMatchObject({ status: 400, code: "TAG_INVALID" });
      expect(result.message).toMatch(/already exists.*immutable/i);
      expect(await tagDigest(name, tag)).toBe(first.manifest.digest);
    }
  }
  return moved;
}

const TAGS = ["latest", "dev-1", "dev-feature.x", "v1.0.0", "v1.0.0-rc1", "release"];

describe("IMMUTABLE_WITH_EXCLUSION and MUTABLE_WITH_EXCLUSION", () => {
  it("IMMUTABLE_WITH_EXCLUSION: only tags matching a filter move over /v2", async () => {
    const name = await createRepository("imm-ex", "IMMUTABLE_WITH_EXCLUSION", [
      wildcard("latest"),
      wildcard("dev-*"),
      wildcard("*-rc*"),
    ]);
    expect(await tagsThatMove(name, TAGS)).toEqual(["latest", "dev-1", "dev-feature.x", "v1.0.0-rc1"]);
  });

  it("MUTABLE_WITH_EXCLUSION: every tag moves over /v2 except those matching a filter", async () => {
    const name = await createRepository("mut-ex", "MUTABLE_WITH_EXCLUSION", [wildcard("v*.*.*"), wildcard("release")]);
    expect(await tagsThatMove(name, TAGS)).toEqual(["latest", "dev-1", "dev-feature.x"]);
  });

  it("PutImage follows the same decision (ImageTagAlreadyExistsException for a fixed tag)", async () => {
    const name = await createRepository("put-image", "IMMUTABLE_WITH_EXCLUSION", [wildcard("latest")]);
    const first = await imageWithBlobs(name, "first");
    const second = await imageWithBlobs(name, "second");
    const put = (image: BuiltImage, tag: string) =>
      ecr.send(
        new PutImageCommand({
          repositoryName: name,
          imageManifest: image.manifest.bytes.toString("utf8"),
          imageTag: tag,
        }),
      );
    await put(first, "latest");
    await put(first, "v1");
    await put(second, "latest");
    await expectEcrError(put(second, "v1"), "ImageTagAlreadyExistsException");
    expect(await tagDigest(name, "latest")).toBe(second.manifest.digest);
    expect(await tagDigest(name, "v1")).toBe(first.manifest.digest);
  });

  it("PutImageTagMutability switches settings; DescribeRepositories reports the filters", async () => {
    const name = await createRepository("switch", "MUTABLE");
    const first = await imageWithBlobs(name, "first");
    const second = await imageWithBlobs(name, "second");
    expect((await pushTag(name, first, "stable")).status).toBe(201);
    expect((await pushTag(name, first, "edge")).status).toBe(201);

    const set = await ecr.send(
      new PutImageTagMutabilityCommand({
        repositoryName: name,
        imageTagMutability: "MUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters: [wildcard("stable")],
      }),
    );
    expect(set).toMatchObject({
      repositoryName: name,
      imageTagMutability: "MUTABLE_WITH_EXCLUSION",
      imageTagMutabilityExclusionFilters: [wildcard("stable")],
    });
    const described = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    expect(described.repositories?.[0]).toMatchObject({
      imageTagMutability: "MUTABLE_WITH_EXCLUSION",
      imageTagMutabilityExclusionFilters: [wildcard("stable")],
    });
    expect(await pushTag(name, second, "stable")).toMatchObject({ status: 400, code: "TAG_INVALID" });
    expect((await pushTag(name, second, "edge")).status).toBe(201);

    // Back to plain MUTABLE: the filters go with the old setting.
    const plain = await ecr.send(
      new PutImageTagMutabilityCommand({ repositoryName: name, imageTagMutability: "MUTABLE" }),
    );
    expect(plain.imageTagMutabilityExclusionFilters).toBeUndefined();
    const after = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    expect(after.repositories?.[0]?.imageTagMutability).toBe("MUTABLE");
    expect(after.repositories?.[0]?.imageTagMutabilityExclusionFilters).toBeUndefined();
    expect((await pushTag(name, second, "stable")).status).toBe(201);
  });

  it("refuses settings ECR refuses, with InvalidParameterException, and changes nothing", async () => {
    const name = await createRepository("invalid", "IMMUTABLE");
    const refuse = async (
      mutability: ImageTagMutability,
      filters: ImageTagMutabilityExclusionFilter[] | undefined,
      message: string,
    ) => {
      const error = await expectEcrError(
        ecr.send(
          new PutImageTagMutabilityCommand({
            repositoryName: name,
            imageTagMutability: mutability,
            imageTagMutabilityExclusionFilters: filters,
          }),
        ),
        "InvalidParameterException",
      );
      expect(error.message).toContain(message);
    };
    await refuse(
      "IMMUTABLE_WITH_EXCLUSION",
      undefined,
      "ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as IMMUTABLE_WITH_EXCLUSION",
    );
    await refuse(
      "MUTABLE",
      [wildcard("latest")],
      "only be set when imageTagMutability is MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION",
    );
    await refuse(
      "IMMUTABLE_WITH_EXCLUSION",
      [wildcard("a"), wildcard("b"), wildcard("c"), wildcard("d"), wildcard("e"), wildcard("f")],
      "from 1 to 5",
    );
    await refuse("IMMUTABLE_WITH_EXCLUSION", [wildcard("v1/x")], "must satisfy regular expression");
    await refuse(
      "IMMUTABLE_WITH_EXCLUSION",
      [{ filterType: "REGEX" as "WILDCARD", filter: "a" }],
      "filterType must be WILDCARD",
    );
    await expectEcrError(
      ecr.send(
        new CreateRepositoryCommand({
          repositoryName: uniqueName("mutability/none"),
          imageTagMutability: "MUTABLE_WITH_EXCLUSION",
        }),
      ),
      "InvalidParameterException",
    );
    const described = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    expect(described.repositories?.[0]?.imageTagMutability).toBe("IMMUTABLE");
    expect(described.repositories?.[0]?.imageTagMutabilityExclusionFilters).toBeUndefined();
  });
});
