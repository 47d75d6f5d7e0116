/**
 * ECR image actions (DescribeImages, ListImages, BatchGetImage, BatchDeleteImage, PutImage)
 * through @aws-sdk/client-ecr against the running registry, with images pushed and pulled by
 * skopeo and blobs uploaded over /v2.
 */
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ListImagesCommand,
  PutImageCommand,
  type ImageDetail,
  type ImageIdentifier,
} from "@aws-sdk/client-ecr";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { registryFetch, useTempDir } from "./support/context";
import { ACCOUNT_ID, createUser, ecrClient, expectEcrError, uniqueName } from "./support/ecr";
import {
  buildImage,
  buildMultiArchLayout,
  buildSingleArchLayout,
  MediaTypes,
  readLayoutEntry,
  sha256,
  type BuiltImage,
} from "./support/image-builder";
import { dockerRef, ociRef, skopeo } from "./support/skopeo";

const ecr = ecrClient();
const KiB = 1024;

async function createRepository(prefix: string, mutability: "MUTABLE" | "IMMUTABLE" = "MUTABLE"): Promise<string> {
  const name = `images/${uniqueName(prefix)}`;
  await ecr.send(new CreateRepositoryCommand({ repositoryName: name, imageTagMutability: mutability }));
  return name;
}

/** Uploads one blob over /v2 (POST, then PUT with the bytes and digest). */
async function uploadBlob(name: string, bytes: Buffer): Promise<void> {
  const started = await registryFetch("POST", `/v2/${name}/blobs/uploads/`);
  expect(started.status).toBe(202);
  const location = new URL(started.headers.get("Location")!, "http://registry");
  location.searchParams.set("digest", sha256(bytes));
  const put = await registryFetch("PUT", `${location.pathname}${location.search}`, {
    body: bytes,
    headers: { "Content-Type": "application/octet-stream" },
  });
  expect(put.status, await put.text()).toBe(201);
}

/** Builds a small image and uploads its config and layers, not its manifest. */
async function imageWithBlobs(name: string, seed: string): Promise<BuiltImage> {
  const image = buildImage({ seed: `${name}/${seed}`, layers: [{ size: 2 * KiB }] });
  for (const blob of [image.config, ...image.layers.map((layer) => layer.blob)]) await uploadBlob(name, blob.bytes);
  return image;
}

function imageSizeOf(image: BuiltImage): number {
  return image.config.bytes.length + image.layers.reduce((total, layer) => total + layer.blob.bytes.length, 0);
}

async function putImage(name: string, image: BuiltImage, tag?: string) {
  return ecr.send(
    new PutImageCommand({ repositoryName: name, imageManifest: image.manifest.bytes.toString("utf8"), imageTag: tag }),
  );
}

async function describeAll(
  name: string,
  pageSize: number,
  tagStatus?: "TAGGED" | "UNTAGGED" | "ANY",
): Promise<{ details: ImageDetail[]; pages: number }> {
  const details: ImageDetail[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await ecr.send(
      new DescribeImagesCommand({
        repositoryName: name,
        maxResults: pageSize,
        nextToken,
        filter: tagStatus ? { tagStatus } : undefined,
      }),
    );
    pages += 1;
    expect(page.imageDetails!.length).toBeLessThanOrEqual(pageSize);
    details.push(...page.imageDetails!);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return { details, pages };
}

async function listAll(
  name: string,
  pageSize: number,
  tagStatus?: "TAGGED" | "UNTAGGED" | "ANY",
): Promise<{ ids: ImageIdentifier[]; pages: number }> {
  const ids: ImageIdentifier[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await ecr.send(
      new ListImagesCommand({
        repositoryName: name,
        maxResults: pageSize,
        nextToken,
        filter: tagStatus ? { tagStatus } : undefined,
      }),
    );
    pages += 1;
    expect(page.imageIds!.length).toBeLessThanOrEqual(pageSize);
    ids.push(...page.imageIds!);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return { ids, pages };
}

function byKey(ids: readonly ImageIdentifier[]): string[] {
  return ids.map((id) => `${id.imageDigest ?? ""} ${id.imageTag ?? ""}`).sort();
}

async function describeOne(name: string, digest: string): Promise<ImageDetail> {
  const { imageDetails } = await ecr.send(
    new DescribeImagesCommand({ repositoryName: name, imageIds: [{ imageDigest: digest }] }),
  );
  expect(imageDetails).toHaveLength(1);
  return imageDetails![0]!;
}

describe("images pushed by skopeo", () => {
  const tmp = useTempDir("ecr-images-");

  it("are visible to DescribeImages and ListImages in ECR's shapes", async () => {
    const name = `images/${uniqueName("skopeo")}`;
    const source = await buildSingleArchLayout({
      seed: `${name}/one`,
      tag: "1.0",
      layers: [{ size: 20 * KiB }, { size: 5 * KiB }],
      dir: join(tmp.path, "src"),
    });
    const before = Date.now() / 1000;
    await skopeo(
      ["copy", "--preserve-digests", "--dest-tls-verify=false", ociRef(source.path, "1.0"), dockerRef(name, "1.0")],
      { tmpDir: tmp.path },
    );

    const { imageDetails } = await ecr.send(new DescribeImagesCommand({ repositoryName: name }));
    expect(imageDetails).toHaveLength(1);
    const detail = imageDetails![0]!;
    expect(detail).toMatchObject({
      registryId: ACCOUNT_ID,
      repositoryName: name,
      imageDigest: source.manifestDigest,
      imageTags: ["1.0"],
      imageSizeInBytes: imageSizeOf(source.image),
      imageManifestMediaType: MediaTypes.OCI_MANIFEST,
      artifactMediaType: MediaTypes.OCI_CONFIG,
    });
    expect(detail.imagePushedAt).toBeInstanceOf(Date);
    expect(detail.imagePushedAt!.getTime() / 1000).toBeGreaterThanOrEqual(Math.floor(before) - 1);
    expect(detail.lastRecordedPullTime).toBeUndefined();

    const listed = await ecr.send(new ListImagesCommand({ repositoryName: name }));
    expect(listed.imageIds).toEqual([{ imageDigest: source.manifestDigest, imageTag: "1.0" }]);
    expect(listed.nextToken).toBeUndefined();
  });

  it("reports a multi-arch index with the size of its largest child, and filters by tag status", async () => {
    const name = `images/${uniqueName("multi")}`;
    const source = await buildMultiArchLayout({
      seed: `${name}/multi`,
      tag: "2.0",
      layers: [{ size: 8 * KiB }],
      dir: join(tmp.path, "src"),
    });
    await skopeo(
      [
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        ociRef(source.path, "2.0"),
        dockerRef(name, "2.0"),
      ],
      { tmpDir: tmp.path },
    );

    const index = await describeOne(name, source.indexDigest);
    expect(index).toMatchObject({ imageTags: ["2.0"], imageManifestMediaType: MediaTypes.OCI_INDEX });
    expect(index.imageSizeInBytes).toBe(Math.max(...source.images.map(imageSizeOf)));
    expect(index.artifactMediaType).toBeUndefined();

    const tagged = await describeAll(name, 10, "TAGGED");
    expect(tagged.details.map((d) => d.imageDigest)).toEqual([source.indexDigest]);
    const untagged = await describeAll(name, 10, "UNTAGGED");
    expect(untagged.details.map((d) => d.imageDigest).sort()).toEqual([...source.manifestDigests].sort());
    expect(untagged.details.every((d) => d.imageTags === undefined)).toBe(true);
    expect((await describeAll(name, 10, "ANY")).details).toHaveLength(3);

    expect((await listAll(name, 10, "TAGGED")).ids).toEqual([{ imageDigest: source.indexDigest, imageTag: "2.0" }]);
    expect(byKey((await listAll(name, 10, "UNTAGGED")).ids)).toEqual(source.manifestDigests.map((d) => `${d} `).sort());
    expect((await listAll(name, 10)).ids).toHaveLength(3);
  });
});

describe("PutImage", () => {
  const tmp = useTempDir("ecr-putimage-");

  it("stores a manifest whose blobs were uploaded over /v2, and skopeo pulls it", async () => {
    const name = await createRepository("put");
    const image = await imageWithBlobs(name, "pullable");
    const { image: stored } = await putImage(name, image, "v1");
    expect(stored).toEqual({
      registryId: ACCOUNT_ID,
      repositoryName: name,
      imageId: { imageDigest: image.manifest.digest, imageTag: "v1" },
      imageManifest: image.manifest.bytes.toString("utf8"),
      imageManifestMediaType: MediaTypes.OCI_MANIFEST,
    });
    const out = join(tmp.path, "pulled");
    await skopeo(["copy", "--preserve-digests", "--src-tls-verify=false", dockerRef(name, "v1"), ociRef(out, "v1")], {
      tmpDir: tmp.path,
    });
    expect((await readLayoutEntry(out, "v1")).digest).toBe(image.manifest.digest);
    expect((await describeOne(name, image.manifest.digest)).imageSizeInBytes).toBe(imageSizeOf(image));
  });

  it("adds a tag to an existing image, and accepts a matching imageDigest", async () => {
    const name = await createRepository("retag");
    const image = await imageWithBlobs(name, "retag");
    await putImage(name, image);
    const retagged = await ecr.send(
      new PutImageCommand({
        repositoryName: name,
        imageManifest: image.manifest.bytes.toString("utf8"),
        imageTag: "second",
        imageDigest: image.manifest.digest,
      }),
    );
    expect(retagged.image?.imageId).toEqual({ imageDigest: image.manifest.digest, imageTag: "second" });
    expect((await describeOne(name, image.manifest.digest)).imageTags).toEqual(["second"]);
  });

  it("needs imageManifestMediaType when the manifest has no mediaType field", async () => {
    const name = await createRepository("mediatype");
    const image = await imageWithBlobs(name, "no-media-type");
    const { mediaType: _mediaType, ...rest } = JSON.parse(image.manifest.bytes.toString("utf8")) as Record<
      string,
      unknown
    >;
    const manifest = JSON.stringify(rest);
    await expectEcrError(
      ecr.send(new PutImageCommand({ repositoryName: name, imageManifest: manifest, imageTag: "t" })),
      "InvalidParameterException",
    );
    const put = await ecr.send(
      new PutImageCommand({
        repositoryName: name,
        imageManifest: manifest,
        imageManifestMediaType: MediaTypes.OCI_MANIFEST,
        imageTag: "t",
      }),
    );
    expect(put.image?.imageId?.imageDigest).toBe(sha256(manifest));
    expect(put.image?.imageManifestMediaType).toBe(MediaTypes.OCI_MANIFEST);
  });

  it("answers each of ECR's exceptions", async () => {
    const name = await createRepository("errors");
    const image = await imageWithBlobs(name, "errors");
    const manifest = image.manifest.bytes.toString("utf8");

    const missing = `images/${uniqueName("absent")}`;
    await expectEcrError(
      ecr.send(new PutImageCommand({ repositoryName: missing, imageManifest: manifest })),
      "RepositoryNotFoundException",
    );
    await expectEcrError(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [missing] })),
      "RepositoryNotFoundException",
    );

    const unuploaded = buildImage({ seed: `${name}/never-uploaded`, layers: [{ size: KiB }] });
    await expectEcrError(putImage(name, unuploaded, "x"), "LayersNotFoundException");
    const orphanIndex = JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.OCI_INDEX,
      manifests: [unuploaded.descriptor],
    });
    await expectEcrError(
      ecr.send(new PutImageCommand({ repositoryName: name, imageManifest: orphanIndex })),
      "ReferencedImagesNotFoundException",
    );
    await expectEcrError(
      ecr.send(new PutImageCommand({ repositoryName: name, imageManifest: "{not json" })),
      "InvalidParameterException",
    );
    await expectEcrError(
      ecr.send(
        new PutImageCommand({
          repositoryName: name,
          imageManifest: manifest,
          imageManifestMediaType: MediaTypes.OCI_INDEX,
        }),
      ),
      "InvalidParameterException",
    );
    await expectEcrError(
      ecr.send(
        new PutImageCommand({ repositoryName: name, imageManifest: manifest, imageDigest: sha256("something else") }),
      ),
      "ImageDigestDoesNotMatchException",
    );

    await putImage(name, image, "v1");
    await expectEcrError(putImage(name, image, "v1"), "ImageAlreadyExistsException");
    await expectEcrError(putImage(name, image), "ImageAlreadyExistsException");
    // Nothing above left a trace: one image, one tag.
    expect((await listAll(name, 10)).ids).toEqual([{ imageDigest: image.manifest.digest, imageTag: "v1" }]);
  });

  it("refuses to move a tag of an immutable repository (ImageTagAlreadyExistsException)", async () => {
    const name = await createRepository("immutable", "IMMUTABLE");
    const first = await imageWithBlobs(name, "first");
    const second = await imageWithBlobs(name, "second");
    await putImage(name, first, "stable");
    await expectEcrError(putImage(name, second, "stable"), "ImageTagAlreadyExistsException");
    await putImage(name, second, "other");
    expect(byKey((await listAll(name, 10)).ids)).toEqual(
      [`${first.manifest.digest} stable`, `${second.manifest.digest} other`].sort(),
    );
  });
});

describe("DescribeImages and ListImages", () => {
  it("page through several pages with maxResults", async () => {
    const name = await createRepository("pages");
    const images: BuiltImage[] = [];
    for (let i = 0; i < 5; i++) images.push(await imageWithBlobs(name, `page-${i}`));
    await putImage(name, images[0]!, "a");
    await putImage(name, images[0]!, "b");
    await putImage(name, images[1]!, "c");
    await putImage(name, images[2]!);
    await putImage(name, images[3]!, "d");
    await putImage(name, images[4]!);

    const described = await describeAll(name, 2);
    expect(described.pages).toBe(3);
    expect(described.details.map((d) => d.imageDigest).sort()).toEqual(
      images.map((image) => image.manifest.digest).sort(),
    );
    const first = described.details.find((d) => d.imageDigest === images[0]!.manifest.digest);
    expect(first?.imageTags).toEqual(["a", "b"]);

    const expectedIds = [
      `${images[0]!.manifest.digest} a`,
      `${images[0]!.manifest.digest} b`,
      `${images[1]!.manifest.digest} c`,
      `${images[2]!.manifest.digest} `,
      `${images[3]!.manifest.digest} d`,
      `${images[4]!.manifest.digest} `,
    ].sort();
    const listed = await listAll(name, 2);
    expect(listed.pages).toBe(3);
    expect(byKey(listed.ids)).toEqual(expectedIds);
    const listedByFive = await listAll(name, 5);
    expect(listedByFive.pages).toBe(2);
    expect(byKey(listedByFive.ids)).toEqual(expectedIds);

    expect((await describeAll(name, 1, "UNTAGGED")).details.map((d) => d.imageDigest).sort()).toEqual(
      [images[2]!.manifest.digest, images[4]!.manifest.digest].sort(),
    );
    expect(byKey((await listAll(name, 1, "TAGGED")).ids)).toEqual(expectedIds.filter((id) => !id.endsWith(" ")));
  });

  it("describes listed image ids, and answers ImageNotFoundException for one that is missing", async () => {
    const name = await createRepository("ids");
    const image = await imageWithBlobs(name, "ids");
    await putImage(name, image, "latest");
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({
        repositoryName: name,
        imageIds: [{ imageTag: "latest" }, { imageDigest: image.manifest.digest }],
      }),
    );
    expect(imageDetails?.map((d) => d.imageDigest)).toEqual([image.manifest.digest]);
    await expectEcrError(
      ecr.send(
        new DescribeImagesCommand({
          repositoryName: name,
          imageIds: [{ imageTag: "latest" }, { imageTag: "missing" }],
        }),
      ),
      "ImageNotFoundException",
    );
    await expectEcrError(
      ecr.send(
        new DescribeImagesCommand({ repositoryName: name, imageIds: [{ imageDigest: sha256("no such manifest") }] }),
      ),
      "ImageNotFoundException",
    );
    await expectEcrError(
      ecr.send(new DescribeImagesCommand({ repositoryName: name, imageIds: [{ imageTag: "latest" }], maxResults: 5 })),
      "InvalidParameterException",
    );
    await expectEcrError(
      ecr.send(new DescribeImagesCommand({ repositoryName: name, nextToken: "garbage!" })),
      "InvalidParameterException",
    );
  });

  it("answers RepositoryNotFoundException for a missing repository", async () => {
    const missing = `images/${uniqueName("none")}`;
    await expectEcrError(
      ecr.send(new DescribeImagesCommand({ repositoryName: missing })),
      "RepositoryNotFoundException",
    );
    await expectEcrError(ecr.send(new ListImagesCommand({ repositoryName: missing })), "RepositoryNotFoundException");
    await expectEcrError(
      ecr.send(new BatchGetImageCommand({ repositoryName: missing, imageIds: [{ imageTag: "x" }] })),
      "RepositoryNotFoundException",
    );
    await expectEcrError(
      ecr.send(new BatchDeleteImageCommand({ repositoryName: missing, imageIds: [{ imageTag: "x" }] })),
      "RepositoryNotFoundException",
    );
  });

  it("shows lastRecordedPullTime after a pull by skopeo and after BatchGetImage", async () => {
    const name = await createRepository("pulls");
    const pulled = await imageWithBlobs(name, "pulled");
    const fetched = await imageWithBlobs(name, "fetched");
    await putImage(name, pulled, "pulled");
    await putImage(name, fetched, "fetched");
    expect((await describeOne(name, pulled.manifest.digest)).lastRecordedPullTime).toBeUndefined();

    const before = Math.floor(Date.now() / 1000) - 1;
    await skopeo(["inspect", "--raw", "--tls-verify=false", dockerRef(name, "pulled")]);
    const afterPull = await describeOne(name, pulled.manifest.digest);
    expect(afterPull.lastRecordedPullTime).toBeInstanceOf(Date);
    expect(afterPull.lastRecordedPullTime!.getTime() / 1000).toBeGreaterThanOrEqual(before);
    // A HEAD is not a pull.
    expect((await registryFetch("HEAD", `/v2/${name}/manifests/fetched`)).status).toBe(200);
    expect((await describeOne(name, fetched.manifest.digest)).lastRecordedPullTime).toBeUndefined();

    await ecr.send(new BatchGetImageCommand({ repositoryName: name, imageIds: [{ imageTag: "fetched" }] }));
    expect((await describeOne(name, fetched.manifest.digest)).lastRecordedPullTime).toBeInstanceOf(Date);
  });
});

describe("BatchGetImage", () => {
  it("returns the exact manifest bytes, and a failure for each id it cannot serve", async () => {
    const name = await createRepository("get");
    const image = await imageWithBlobs(name, "get");
    const other = await imageWithBlobs(name, "other");
    // Spacing the JSON differently gives other bytes (and digest): those bytes come back.
    const manifest = JSON.stringify(JSON.parse(image.manifest.bytes.toString("utf8")), null, 2);
    await ecr.send(new PutImageCommand({ repositoryName: name, imageManifest: manifest, imageTag: "v1" }));
    await putImage(name, other, "v2");

    const result = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: name,
        imageIds: [
          { imageTag: "v1" },
          { imageDigest: other.manifest.digest },
          { imageTag: "nope" },
          { imageDigest: "sha256:short" },
          { imageTag: "bad tag!" },
          {},
          { imageTag: "v1", imageDigest: other.manifest.digest },
        ],
      }),
    );
    expect(result.images).toEqual([
      {
        registryId: ACCOUNT_ID,
        repositoryName: name,
        imageId: { imageDigest: sha256(manifest), imageTag: "v1" },
        imageManifest: manifest,
        imageManifestMediaType: MediaTypes.OCI_MANIFEST,
      },
      {
        registryId: ACCOUNT_ID,
        repositoryName: name,
        imageId: { imageDigest: other.manifest.digest },
        imageManifest: other.manifest.bytes.toString("utf8"),
        imageManifestMediaType: MediaTypes.OCI_MANIFEST,
      },
    ]);
    const failures = Object.fromEntries(result.failures!.map((f) => [JSON.stringify(f.imageId), f.failureCode]));
    expect(failures).toEqual({
      [JSON.stringify({ imageTag: "nope" })]: "ImageNotFound",
      [JSON.stringify({ imageDigest: "sha256:short" })]: "InvalidImageDigest",
      [JSON.stringify({ imageTag: "bad tag!" })]: "InvalidImageTag",
      [JSON.stringify({})]: "MissingDigestAndTag",
      [JSON.stringify({ imageDigest: other.manifest.digest, imageTag: "v1" })]: "ImageTagDoesNotMatchDigest",
    });
    expect(result.failures!.every((f) => typeof f.failureReason === "string" && f.failureReason.length > 0)).toBe(true);
  });

  it("reports a manifest of a media type not in acceptedMediaTypes as ImageNotFound", async () => {
    const name = await createRepository("accept");
    const image = await imageWithBlobs(name, "accept");
    await putImage(name, image, "v1");
    const refused = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: name,
        imageIds: [{ imageTag: "v1" }],
        acceptedMediaTypes: ["application/vnd.docker.distribution.manifest.v2+json"],
      }),
    );
    expect(refused.images).toEqual([]);
    expect(refused.failures).toMatchObject([{ imageId: { imageTag: "v1" }, failureCode: "ImageNotFound" }]);
    const accepted = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: name,
        imageIds: [{ imageTag: "v1" }],
        acceptedMediaTypes: [MediaTypes.OCI_MANIFEST],
      }),
    );
    expect(accepted.images?.[0]?.imageId?.imageDigest).toBe(image.manifest.digest);
  });
});

describe("BatchDeleteImage", () => {
  const tmp = useTempDir("ecr-delete-");

  it("removes tags, images losing their last tag, and images by digest, reporting partial failures", async () => {
    const name = await createRepository("delete");
    const shared = await imageWithBlobs(name, "shared");
    const single = await imageWithBlobs(name, "single");
    const byDigest = await imageWithBlobs(name, "by-digest");
    await putImage(name, shared, "one");
    await putImage(name, shared, "two");
    await putImage(name, single, "only");
    await putImage(name, byDigest, "x");
    await putImage(name, byDigest, "y");

    const result = await ecr.send(
      new BatchDeleteImageCommand({
        repositoryName: name,
        imageIds: [
          { imageTag: "one" },
          { imageTag: "only" },
          { imageDigest: byDigest.manifest.digest },
          { imageTag: "ghost" },
          { imageDigest: "bogus" },
        ],
      }),
    );
    expect(byKey(result.imageIds!)).toEqual(
      [
        `${shared.manifest.digest} one`,
        `${single.manifest.digest} only`,
        `${byDigest.manifest.digest} x`,
        `${byDigest.manifest.digest} y`,
      ].sort(),
    );
    expect(result.failures).toHaveLength(2);
    expect(result.failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ imageId: { imageTag: "ghost" }, failureCode: "ImageNotFound" }),
        expect.objectContaining({ imageId: { imageDigest: "bogus" }, failureCode: "InvalidImageDigest" }),
      ]),
    );
    // The shared image keeps its other tag; the others are gone, and no longer served over /v2.
    expect((await listAll(name, 10)).ids).toEqual([{ imageDigest: shared.manifest.digest, imageTag: "two" }]);
    expect((await registryFetch("GET", `/v2/${name}/manifests/${single.manifest.digest}`)).status).toBe(404);
    expect((await registryFetch("GET", `/v2/${name}/manifests/${byDigest.manifest.digest}`)).status).toBe(404);
    expect((await registryFetch("GET", `/v2/${name}/manifests/two`)).status).toBe(200);
  });

  it("keeps a manifest an index still lists (ImageReferencedByManifestList), and deletes both together", async () => {
    const name = `images/${uniqueName("indexed")}`;
    const source = await buildMultiArchLayout({
      seed: `${name}/multi`,
      tag: "multi",
      layers: [{ size: 4 * KiB }],
      dir: join(tmp.path, "src"),
    });
    await skopeo(
      [
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        ociRef(source.path, "multi"),
        dockerRef(name, "multi"),
      ],
      { tmpDir: tmp.path },
    );
    const [child, sibling] = source.manifestDigests as [string, string];

    const refused = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: name, imageIds: [{ imageDigest: child }] }),
    );
    expect(refused.imageIds).toEqual([]);
    expect(refused.failures).toMatchObject([
      { imageId: { imageDigest: child }, failureCode: "ImageReferencedByManifestList" },
    ]);
    expect((await describeAll(name, 10)).details).toHaveLength(3);

    // The child first in the list: the index goes in the same request, so the child may go.
    const both = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: name, imageIds: [{ imageDigest: child }, { imageTag: "multi" }] }),
    );
    expect(both.failures).toEqual([]);
    expect(byKey(both.imageIds!)).toEqual([`${child} `, `${source.indexDigest} multi`].sort());
    expect((await describeAll(name, 10)).details.map((d) => d.imageDigest)).toEqual([sibling]);
  });
});

describe("authorization", () => {
  it("refuses image actions the caller's policy does not allow", async () => {
    const name = await createRepository("authz");
    const image = await imageWithBlobs(name, "authz");
    await putImage(name, image, "v1");
    const reader = ecrClient(
      await createUser(uniqueName("lister"), {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["ecr:ListImages"], Resource: "*" }],
      }),
    );
    expect((await reader.send(new ListImagesCommand({ repositoryName: name }))).imageIds).toHaveLength(1);
    await expectEcrError(reader.send(new DescribeImagesCommand({ repositoryName: name })), "AccessDeniedException");
    await expectEcrError(
      reader.send(new BatchGetImageCommand({ repositoryName: name, imageIds: [{ imageTag: "v1" }] })),
      "AccessDeniedException",
    );
    await expectEcrError(
      reader.send(new BatchDeleteImageCommand({ repositoryName: name, imageIds: [{ imageTag: "v1" }] })),
      "AccessDeniedException",
    );
    await putImage(name, image, "v2");
    await expectEcrError(
      reader.send(
        new PutImageCommand({
          repositoryName: name,
          imageManifest: image.manifest.bytes.toString("utf8"),
          imageTag: "v3",
        }),
      ),
      "AccessDeniedException",
    );
    expect((await listAll(name, 10)).ids).toHaveLength(2);
  });
});
