import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/oci/manifest-format";
import { repositoryObject } from "../../src/repository/stub";
import { ecr, ecrCall } from "../support/ecr";
import {
  bytesOf,
  call,
  digestOf,
  EMPTY_CONFIG,
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_LIST,
  EMPTY_DIGEST,
  expectError,
  pushBlob,
  pushImage,
  putManifestBytes,
  randomBytes,
} from "../support/registry";

const NAME = "team-a/web-app";

/** An image manifest over one pushed config blob, padded with an annotation to `pad` bytes. */
async function imageManifest(name: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const config = bytesOf(`{"os":"linux","n":${Math.random()}}`);
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: await pushBlob(name, config),
      size: config.length,
    },
    layers: [],
    ...extra,
  };
}

function json(value: unknown): Uint8Array {
  return bytesOf(JSON.stringify(value));
}

describe("manifest PUT and GET", () => {
  it("stores the exact bytes and serves them by tag and by digest", async () => {
    // Unusual whitespace and key order must survive byte for byte.
    const manifest = await imageManifest(NAME);
    const bytes = bytesOf(
      `{\n  "schemaVersion" : 2,${JSON.stringify(manifest).slice(1).replace('"schemaVersion":2,', "")}\n`,
    );
    const digest = await digestOf(bytes);
    const put = await putManifestBytes(NAME, "v1", bytes);
    expect(put.status, await put.clone().text()).toBe(201);
    expect(put.headers.get("Location")).toBe(`/v2/${NAME}/manifests/${digest}`);
    expect(put.headers.get("Docker-Content-Digest")).toBe(digest);
    for (const reference of ["v1", digest]) {
      const got = await call("GET", `/v2/${NAME}/manifests/${reference}`);
      expect(got.status).toBe(200);
      expect(got.headers.get("Content-Type")).toBe(OCI_MANIFEST);
      expect(got.headers.get("Docker-Content-Digest")).toBe(digest);
      expect(got.headers.get("Content-Length")).toBe(String(bytes.length));
      expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
      const head = await call("HEAD", `/v2/${NAME}/manifests/${reference}`);
      expect(head.status).toBe(200);
      expect(head.headers.get("Content-Length")).toBe(String(bytes.length));
      expect(await head.text()).toBe("");
    }
  });

  it("accepts a PUT by digest and refuses one whose bytes hash elsewhere", async () => {
    const bytes = json(await imageManifest(NAME));
    const digest = await digestOf(bytes);
    expect((await putManifestBytes(NAME, digest, bytes)).status).toBe(201);
    const other = json(await imageManifest(NAME));
    await expectError(await putManifestBytes(NAME, digest, other), 400, "DIGEST_INVALID");
  });

  it("accepts Docker schema 2 manifests and manifest lists", async () => {
    const config = bytesOf('{"os":"linux"}');
    const layer = randomBytes(50);
    const manifest = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        digest: await pushBlob(NAME, config),
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
          digest: await pushBlob(NAME, layer),
          size: 50,
        },
      ],
    };
    const bytes = json(manifest);
    expect((await putManifestBytes(NAME, "docker", bytes, DOCKER_MANIFEST)).status).toBe(201);
    const list = json({
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [
        {
          mediaType: DOCKER_MANIFEST,
          digest: await digestOf(bytes),
          size: bytes.length,
          platform: { os: "linux", architecture: "amd64" },
        },
      ],
    });
    expect((await putManifestBytes(NAME, "list", list, DOCKER_LIST)).status).toBe(201);
    const got = await call("GET", `/v2/${NAME}/manifests/list`, {
      headers: { Accept: `${DOCKER_LIST}, ${DOCKER_MANIFEST}` },
    });
    expect(got.headers.get("Content-Type")).toBe(DOCKER_LIST);
  });

  it("accepts OCI artifacts with an empty config and reports artifactType", async () => {
    await pushBlob(NAME, EMPTY_CONFIG);
    const blob = randomBytes(20);
    const artifact = json({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.sbom+json",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_DIGEST, size: 2 },
      layers: [{ mediaType: "application/vnd.example.sbom+json", digest: await pushBlob(NAME, blob), size: 20 }],
    });
    expect((await putManifestBytes(NAME, "sbom", artifact)).status).toBe(201);
  });

  it("refuses manifests whose blobs or children are not in the repository", async () => {
    const missingLayer = await digestOf(randomBytes(8));
    const manifest = await imageManifest(NAME, {
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: missingLayer, size: 8 }],
    });
    const body = await expectError(
      await putManifestBytes(NAME, "broken", json(manifest)),
      400,
      "MANIFEST_BLOB_UNKNOWN",
    );
    expect(JSON.stringify(body.errors[0]?.detail)).toContain(missingLayer);
    // A blob of another repository does not count.
    const foreign = await pushBlob("team-b/other", randomBytes(8));
    const manifest2 = await imageManifest(NAME, {
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: foreign, size: 8 }],
    });
    await expectError(await putManifestBytes(NAME, "broken", json(manifest2)), 400, "MANIFEST_BLOB_UNKNOWN");
    const index = json({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: missingLayer, size: 8 }],
    });
    await expectError(await putManifestBytes(NAME, "broken", index, OCI_INDEX), 400, "MANIFEST_BLOB_UNKNOWN");
    await expectError(await call("GET", `/v2/${NAME}/manifests/broken`), 404, "MANIFEST_UNKNOWN");
  });

  it("refuses descriptors whose size is not the stored content's with MANIFEST_INVALID (config, layer, index child, subject)", async () => {
    const layer = randomBytes(40);
    const layerDigest = await pushBlob(NAME, layer);
    const good = await imageManifest(NAME, {
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: 40 }],
    });
    const config = good.config as { size: number };
    const refused = async (bytes: Uint8Array, mediaType: string, where: string, declared: number, stored: number) => {
      const body = await expectError(await putManifestBytes(NAME, "sized", bytes, mediaType), 400, "MANIFEST_INVALID");
      expect(body.errors[0]!.message).toContain(`${where} declares size ${declared} for `);
      expect(body.errors[0]!.message).toContain(`which is ${stored} bytes`);
    };
    await refused(
      json({ ...good, config: { ...config, size: config.size + 1 } }),
      OCI_MANIFEST,
      "config",
      config.size + 1,
      config.size,
    );
    await refused(
      json({
        ...good,
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: 39 }],
      }),
      OCI_MANIFEST,
      "layers[0]",
      39,
      40,
    );
    // Docker schema 2 too.
    await refused(
      json({
        ...good,
        mediaType: DOCKER_MANIFEST,
        layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", digest: layerDigest, size: 0 }],
      }),
      DOCKER_MANIFEST,
      "layers[0]",
      0,
      40,
    );
    await expectError(await call("GET", `/v2/${NAME}/manifests/sized`), 404, "MANIFEST_UNKNOWN");

    const image = json(good);
    expect((await putManifestBytes(NAME, "image", image)).status).toBe(201);
    const imageDigest = await digestOf(image);
    const child = (size: number) => ({
      mediaType: OCI_MANIFEST,
      digest: imageDigest,
      size,
      platform: { architecture: "amd64", os: "linux" },
    });
    await refused(
      json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child(image.length + 7)] }),
      OCI_INDEX,
      "manifests[0]",
      image.length + 7,
      image.length,
    );
    await refused(
      json({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [child(image.length), child(1)] }),
      DOCKER_LIST,
      "manifests[1]",
      1,
      image.length,
    );
    // A subject that is stored must have its size; one that is not stored is accepted (below).
    await refused(
      json({ ...good, subject: { mediaType: OCI_MANIFEST, digest: imageDigest, size: 5 } }),
      OCI_MANIFEST,
      "subject",
      5,
      image.length,
    );

    // With the right sizes, each of them is accepted.
    expect(
      (
        await putManifestBytes(
          NAME,
          "index",
          json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child(image.length)] }),
          OCI_INDEX,
        )
      ).status,
    ).toBe(201);
    const referrer = await putManifestBytes(
      NAME,
      "referrer",
      json({ ...good, subject: { mediaType: OCI_MANIFEST, digest: imageDigest, size: image.length } }),
    );
    expect(referrer.status).toBe(201);
    expect(referrer.headers.get("OCI-Subject")).toBe(imageDigest);
  });

  it("refuses a wrong descriptor size through ECR's PutImage too, as InvalidParameterException", async () => {
    await ecr("CreateRepository", { repositoryName: "team-a/ecr-sized" });
    const layerDigest = await pushBlob("team-a/ecr-sized", randomBytes(40));
    const manifest = await imageManifest("team-a/ecr-sized", {
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: 41 }],
    });
    const result = await ecrCall("PutImage", {
      repositoryName: "team-a/ecr-sized",
      imageManifest: JSON.stringify(manifest),
      imageTag: "v1",
    });
    expect(result.status).toBe(400);
    expect(result.type).toBe("InvalidParameterException");
    expect(result.body.message).toContain("layers[0] declares size 41");
    const fixed = {
      ...manifest,
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: 40 }],
    };
    expect(
      (
        await ecrCall("PutImage", {
          repositoryName: "team-a/ecr-sized",
          imageManifest: JSON.stringify(fixed),
          imageTag: "v1",
        })
      ).status,
    ).toBe(200);
  });

  it("does not check the links or sizes of a pull-through cache's manifests, whose blobs arrive later", async () => {
    const name = "cache/app";
    const stub = repositoryObject(env, name);
    const write = async (config: { digest: string; size: number }, tag: string, cached: boolean) => {
      const bytes = json({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers: [],
      });
      const summary = parseManifest(bytes, OCI_MANIFEST);
      const record = {
        digest: await digestOf(bytes),
        mediaType: summary.mediaType,
        size: bytes.length,
        body: new TextDecoder().decode(bytes),
        artifactType: summary.artifactType,
        subject: null,
        annotations: null,
        blobDigests: summary.blobDigests,
        childDigests: summary.childDigests,
        imageSize: summary.imageSize,
      };
      return (
        await stub.putManifest(name, record, tag, {
          createRepository: true,
          cached,
          declaredSizes: summary.declaredSizes,
        })
      ).status;
    };
    const missing = { digest: await digestOf(randomBytes(8)), size: 8 };
    const wrongSize = { digest: await pushBlob(name, randomBytes(9)), size: 8 };
    expect(await write(missing, "missing", false)).toBe("missing-references");
    expect(await write(wrongSize, "sized", false)).toBe("size-mismatch");
    expect(await write(missing, "missing", true)).toBe("stored");
    expect(await write(wrongSize, "sized", true)).toBe("stored");
  });

  it("accepts non-distributable layers that are not in the repository", async () => {
    const manifest = await imageManifest(NAME, {
      layers: [
        {
          mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
          digest: await digestOf(randomBytes(4)),
          size: 4,
          urls: ["https://example.com/layer"],
        },
      ],
    });
    expect((await putManifestBytes(NAME, "foreign", json(manifest))).status).toBe(201);
  });

  it("accepts a subject that does not exist yet and answers OCI-Subject", async () => {
    const subject = await digestOf(randomBytes(16));
    const manifest = await imageManifest(NAME, { subject: { mediaType: OCI_MANIFEST, digest: subject, size: 16 } });
    const response = await putManifestBytes(NAME, await digestOf(json(manifest)), json(manifest));
    expect(response.status).toBe(201);
    expect(response.headers.get("OCI-Subject")).toBe(subject);
  });

  it.each([
    ["not JSON", bytesOf("{nope"), OCI_MANIFEST],
    ["a JSON array", bytesOf("[]"), OCI_MANIFEST],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), OCI_MANIFEST],
    ["schema 1", bytesOf('{"schemaVersion":1}'), "application/vnd.docker.distribution.manifest.v1+prettyjws"],
    ["an unknown media type", bytesOf('{"schemaVersion":2}'), "application/x-tar"],
    ["no config", bytesOf(`{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","layers":[]}`), OCI_MANIFEST],
    ["a mismatched mediaType", bytesOf(`{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[]}`), OCI_MANIFEST],
    ["schemaVersion 3", bytesOf(`{"schemaVersion":3,"mediaType":"${OCI_INDEX}","manifests":[]}`), OCI_INDEX],
    [
      "a bad descriptor",
      bytesOf(`{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[{"digest":"x"}]}`),
      OCI_INDEX,
    ],
  ])("rejects %s with MANIFEST_INVALID", async (_label, bytes, mediaType) => {
    await expectError(await putManifestBytes(NAME, "bad", bytes, mediaType), 400, "MANIFEST_INVALID");
    await expectError(await call("GET", `/v2/${NAME}/manifests/bad`), 404, "MANIFEST_UNKNOWN");
  });

  it("serves the pushed type only to clients that accept it", async () => {
    await pushImage(NAME, "v1");
    await expectError(
      await call("GET", `/v2/${NAME}/manifests/v1`, { headers: { Accept: DOCKER_MANIFEST } }),
      404,
      "MANIFEST_UNKNOWN",
    );
    for (const accept of [OCI_MANIFEST, `${DOCKER_MANIFEST}, ${OCI_MANIFEST};q=0.5`, "*/*", "application/json"]) {
      expect((await call("GET", `/v2/${NAME}/manifests/v1`, { headers: { Accept: accept } })).status).toBe(200);
    }
  });
});

describe("manifest size limits", () => {
  async function paddedManifest(totalBytes: number): Promise<Uint8Array> {
    const base = await imageManifest(NAME, { annotations: { pad: "" } });
    const empty = JSON.stringify(base).length;
    (base.annotations as Record<string, string>).pad = "x".repeat(totalBytes - empty);
    const bytes = json(base);
    expect(bytes.length).toBe(totalBytes);
    return bytes;
  }

  it("round-trips a manifest of nearly 4 MiB byte for byte", async () => {
    const bytes = await paddedManifest(4 * 1024 * 1024 - 10);
    const digest = await digestOf(bytes);
    const put = await putManifestBytes(NAME, "big", bytes);
    expect(put.status, await put.clone().text()).toBe(201);
    const got = await call("GET", `/v2/${NAME}/manifests/big`);
    expect(got.headers.get("Docker-Content-Digest")).toBe(digest);
    const body = new Uint8Array(await got.arrayBuffer());
    expect(body.length).toBe(bytes.length);
    expect(await digestOf(body)).toBe(digest);
  });

  it("refuses 4 MiB + 1 byte with 413 and stores nothing", async () => {
    const bytes = await paddedManifest(4 * 1024 * 1024 + 1);
    await expectError(await putManifestBytes(NAME, "big", bytes), 413, "SIZE_INVALID");
    await expectError(await call("GET", `/v2/${NAME}/manifests/big`), 404, "MANIFEST_UNKNOWN");
    expect((await env.BLOBS.list({ prefix: "manifests/" })).objects).toEqual([]);
  });
});

describe("references", () => {
  it.each(["-bad", ".bad", "a".repeat(129), "tag with space"])(
    "refuses the tag %s on PUT with TAG_INVALID",
    async (tag) => {
      const manifest = json(await imageManifest(NAME));
      await expectError(await putManifestBytes(NAME, encodeURIComponent(tag), manifest), 400, "TAG_INVALID");
    },
  );

  it("accepts a 128-character tag", async () => {
    const tag = "a".repeat(128);
    expect((await putManifestBytes(NAME, tag, json(await imageManifest(NAME)))).status).toBe(201);
    expect((await call("GET", `/v2/${NAME}/manifests/${tag}`)).status).toBe(200);
  });

  it.each(["-bad", "sha256:short", "md5:abc"])("answers GET %s with 404 MANIFEST_UNKNOWN", async (reference) => {
    await expectError(await call("GET", `/v2/${NAME}/manifests/${reference}`), 404, "MANIFEST_UNKNOWN");
  });

  it("refuses a PUT by a malformed digest with DIGEST_INVALID", async () => {
    await expectError(
      await putManifestBytes(NAME, "sha256:short", json(await imageManifest(NAME))),
      400,
      "DIGEST_INVALID",
    );
  });
});

describe("manifest DELETE", () => {
  it("by tag removes only that tag", async () => {
    const { digest } = await pushImage(NAME, "v1");
    expect(
      (
        await putManifestBytes(
          NAME,
          "v2",
          (await call("GET", `/v2/${NAME}/manifests/v1`)).body as unknown as Uint8Array,
        )
      ).status,
    ).toBe(201);
    expect((await call("DELETE", `/v2/${NAME}/manifests/v1`)).status).toBe(202);
    await expectError(await call("GET", `/v2/${NAME}/manifests/v1`), 404, "MANIFEST_UNKNOWN");
    expect((await call("GET", `/v2/${NAME}/manifests/v2`)).status).toBe(200);
    expect((await call("GET", `/v2/${NAME}/manifests/${digest}`)).status).toBe(200);
    await expectError(await call("DELETE", `/v2/${NAME}/manifests/v1`), 404, "MANIFEST_UNKNOWN");
  });

  it("by digest removes the manifest and every tag on it", async () => {
    const { digest, bytes } = await pushImage(NAME, "v1");
    expect((await putManifestBytes(NAME, "v2", bytes)).status).toBe(201);
    expect((await call("DELETE", `/v2/${NAME}/manifests/${digest}`)).status).toBe(202);
    for (const reference of ["v1", "v2", digest]) {
      await expectError(await call("GET", `/v2/${NAME}/manifests/${reference}`), 404, "MANIFEST_UNKNOWN");
    }
    const tags = await (await call("GET", `/v2/${NAME}/tags/list`)).json<{ tags: string[] }>();
    expect(tags.tags).toEqual([]);
    await expectError(await call("DELETE", `/v2/${NAME}/manifests/${digest}`), 404, "MANIFEST_UNKNOWN");
  });
});
