/**
 * ECR's control plane inside workerd: dispatch and inputs whose names are external strings.
 */
import { describe, expect, it } from "vitest";
import { ecr, ecrCall } from "../support/ecr";
import {
  bytesOf,
  digestOf,
  DOCKER_MANIFEST,
  pushBlob,
  pushImage,
  putManifestBytes,
  randomBytes,
  repositoryArnOf,
} from "../support/registry";

/** Members every plain object inherits from Object.prototype. */
const PROTOTYPE_MEMBERS = [
  "__proto__",
  "constructor",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "toString",
  "valueOf",
  "__defineGetter__",
  "__lookupSetter__",
];

describe("action dispatch", () => {
  it.each(PROTOTYPE_MEMBERS)(
    "answers X-Amz-Target ...V20150921.%s with 400 UnknownOperationException",
    async (member) => {
      const result = await ecrCall(member, {});
      expect(result.status, JSON.stringify(result.body)).toBe(400);
      expect(result.type).toBe("UnknownOperationException");
    },
  );

  it("still serves the actions it has", async () => {
    expect(await ecrCall("DescribeRegistry", {})).toMatchObject({ status: 200, body: { registryId: "123456789012" } });
  });
});

describe("resource tags", () => {
  it("keeps tag keys named like Object.prototype members", async () => {
    const name = "team-a/proto-tags";
    await ecr("CreateRepository", { repositoryName: name, tags: [{ Key: "__proto__", Value: "a" }] });
    await ecr("TagResource", { resourceArn: repositoryArnOf(name), tags: [{ Key: "constructor", Value: "b" }] });
    const listed = await ecr("ListTagsForResource", { resourceArn: repositoryArnOf(name) });
    expect(listed.tags).toEqual(
      expect.arrayContaining([
        { Key: "__proto__", Value: "a" },
        { Key: "constructor", Value: "b" },
      ]),
    );
    expect(listed.tags).toHaveLength(2);
    await ecr("UntagResource", { resourceArn: repositoryArnOf(name), tagKeys: ["__proto__"] });
    expect((await ecr("ListTagsForResource", { resourceArn: repositoryArnOf(name) })).tags).toEqual([
      { Key: "constructor", Value: "b" },
    ]);
  });
});

describe("repository policies with Service principals", () => {
  // The statement AWS tells Lambda users to add to the repository holding a function's image.
  const LAMBDA_POLICY = JSON.stringify(
    {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "LambdaECRImageRetrievalPolicy",
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        },
      ],
    },
    null,
    2,
  );

  it("accepts them and returns the policy text verbatim", async () => {
    const name = "team-a/lambda-fn";
    await ecr("CreateRepository", { repositoryName: name });
    expect(await ecr("SetRepositoryPolicy", { repositoryName: name, policyText: LAMBDA_POLICY })).toMatchObject({
      policyText: LAMBDA_POLICY,
    });
    expect(await ecr("GetRepositoryPolicy", { repositoryName: name })).toMatchObject({
      repositoryName: name,
      policyText: LAMBDA_POLICY,
    });
    // A registry policy holds only ecr:ReplicateImage, ecr:CreateRepository and ecr:BatchImportUpstreamImage.
    expect((await ecrCall("PutRegistryPolicy", { policyText: LAMBDA_POLICY })).type).toBe("ValidationException");
  });

  it("still refuses a Service principal that is no AWS service name", async () => {
    const name = "team-a/lambda-bad";
    await ecr("CreateRepository", { repositoryName: name });
    const text = LAMBDA_POLICY.replace("lambda.amazonaws.com", "lambda");
    const result = await ecrCall("SetRepositoryPolicy", { repositoryName: name, policyText: text });
    expect(result.status).toBe(400);
    expect(result.type).toBe("InvalidParameterException");
    expect(String(result.body.message)).toContain('"lambda" must be an AWS service principal');
  });
});

describe("CreatePullThroughCacheRule's upstreamRegistry", () => {
  it.each([
    ["quay.io", "quay"],
    ["registry.k8s.io", "k8s"],
    ["ghcr.io", "github-container-registry"],
    ["team.azurecr.io", "azure-container-registry"],
    ["registry.gitlab.com", "gitlab-container-registry"],
    ["123456789012.dkr.ecr.us-west-2.amazonaws.com", "ecr"],
    ["cgr.dev", "chainguard"],
    ["public.ecr.aws", "ecr-public"],
    ["registry-1.docker.io", "docker-hub"],
  ])("is derived from %s as %s when not given, and kept by Describe", async (url, expected) => {
    const prefix = `up-${expected}`.slice(0, 30);
    expect(
      await ecr("CreatePullThroughCacheRule", { ecrRepositoryPrefix: prefix, upstreamRegistryUrl: url }),
    ).toMatchObject({
      upstreamRegistryUrl: url,
      upstreamRegistry: expected,
    });
    const described = await ecr("DescribePullThroughCacheRules", { ecrRepositoryPrefixes: [prefix] });
    expect(described.pullThroughCacheRules).toEqual([expect.objectContaining({ upstreamRegistry: expected })]);
  });

  it("honours a given upstreamRegistry and still refuses one ECR does not name", async () => {
    expect(
      await ecr("CreatePullThroughCacheRule", {
        ecrRepositoryPrefix: "local-hub",
        upstreamRegistryUrl: "http://127.0.0.1:5000",
        upstreamRegistry: "docker-hub",
      }),
    ).toMatchObject({ upstreamRegistry: "docker-hub" });
    const bad = await ecrCall("CreatePullThroughCacheRule", {
      ecrRepositoryPrefix: "bad-kind",
      upstreamRegistryUrl: "quay.io",
      upstreamRegistry: "floppy",
    });
    expect([bad.status, bad.type]).toEqual([400, "UnsupportedUpstreamRegistryException"]);
  });

  it("refuses a host ECR does not list when upstreamRegistry is not given", async () => {
    const result = await ecrCall("CreatePullThroughCacheRule", {
      ecrRepositoryPrefix: "local",
      upstreamRegistryUrl: "http://127.0.0.1:5000",
    });
    expect([result.status, result.type]).toEqual([400, "UnsupportedUpstreamRegistryException"]);
    expect(String(result.body.message)).toContain("give upstreamRegistry");
    expect((await ecr("DescribePullThroughCacheRules", {})).pullThroughCacheRules).toEqual([]);
  });
});

describe("BatchCheckLayerAvailability's mediaType", () => {
  const REPO = "team-a/layer-types";
  const ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";

  async function check(digests: string[], repositoryName = REPO): Promise<Record<string, unknown>[]> {
    return (await ecr("BatchCheckLayerAvailability", { repositoryName, layerDigests: digests })).layers as Record<
      string,
      unknown
    >[];
  }

  function mediaTypes(layers: Record<string, unknown>[]): Record<string, unknown> {
    return Object.fromEntries(layers.map((layer) => [String(layer.layerDigest), layer.mediaType ?? null]));
  }

  it("is the type the referencing manifest gives each blob: config, OCI and Docker layers", async () => {
    const oci = await pushImage(REPO, "oci", { layers: [randomBytes(64), randomBytes(65)] });
    const ociManifest = oci.manifest as { config: { digest: string }; layers: { digest: string }[] };
    // A Docker schema 2 image whose layer is zstd: every blob its own type.
    const dockerConfig = bytesOf('{"architecture":"arm64","os":"linux"}');
    const dockerLayer = randomBytes(66);
    const zstdLayer = randomBytes(67);
    const docker = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        digest: await pushBlob(REPO, dockerConfig),
        size: dockerConfig.length,
      },
      layers: [
        {
          mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
          digest: await pushBlob(REPO, dockerLayer),
          size: dockerLayer.length,
        },
        { mediaType: ZSTD, digest: await pushBlob(REPO, zstdLayer), size: zstdLayer.length },
      ],
    };
    expect((await putManifestBytes(REPO, "docker", bytesOf(JSON.stringify(docker)), DOCKER_MANIFEST)).status).toBe(201);
    const uploadedOnly = await pushBlob(REPO, randomBytes(68));
    const missing = await digestOf(randomBytes(69));

    const layers = await check([
      ociManifest.config.digest,
      ...ociManifest.layers.map((l) => l.digest),
      docker.config.digest,
      ...docker.layers.map((l) => l.digest),
      uploadedOnly,
      missing,
    ]);
    expect(mediaTypes(layers)).toEqual({
      [ociManifest.config.digest]: "application/vnd.oci.image.config.v1+json",
      [ociManifest.layers[0]!.digest]: "application/vnd.oci.image.layer.v1.tar+gzip",
      [ociManifest.layers[1]!.digest]: "application/vnd.oci.image.layer.v1.tar+gzip",
      [docker.config.digest]: "application/vnd.docker.container.image.v1+json",
      [docker.layers[0]!.digest]: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      [docker.layers[1]!.digest]: ZSTD,
      // Linked but in no image yet: ECR's default for a layer whose type it does not know.
      [uploadedOnly]: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      // Not linked: UNAVAILABLE, with no size or type.
      [missing]: null,
    });
    expect(layers.find((layer) => layer.layerDigest === missing)).toEqual({
      layerDigest: missing,
      layerAvailability: "UNAVAILABLE",
    });
    expect(layers.find((layer) => layer.layerDigest === docker.config.digest)).toMatchObject({
      layerAvailability: "AVAILABLE",
      layerSize: dockerConfig.length,
    });
  });

  it("follows the latest manifest referencing the blob, and only this repository's manifests", async () => {
    const layer = randomBytes(80);
    const first = await pushImage(REPO, "first", { layers: [layer] });
    const layerDigest = (first.manifest as { layers: { digest: string }[] }).layers[0]!.digest;
    expect(mediaTypes(await check([layerDigest]))).toEqual({
      [layerDigest]: "application/vnd.oci.image.layer.v1.tar+gzip",
    });
    // The same bytes declared as an uncompressed tar by a later image of the repository.
    const config = bytesOf('{"later":true}');
    const later = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: await pushBlob(REPO, config),
        size: config.length,
      },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layer.length }],
    };
    expect((await putManifestBytes(REPO, "later", bytesOf(JSON.stringify(later)))).status).toBe(201);
    expect(mediaTypes(await check([layerDigest]))).toEqual({ [layerDigest]: "application/vnd.oci.image.layer.v1.tar" });
    // Another repository linking the blob with no image of its own does not see REPO's types.
    const other = "team-a/layer-types-other";
    await pushBlob(other, layer);
    expect(mediaTypes(await check([layerDigest], other))).toEqual({
      [layerDigest]: "application/vnd.docker.image.rootfs.diff.tar.gzip",
    });
  });
});
