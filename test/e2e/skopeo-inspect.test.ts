/**
 * skopeo inspect (raw and parsed), list-tags and delete against the registry.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { registryFetch } from "./support/context";
import {
  buildMultiArchLayout,
  buildSingleArchLayout,
  type MultiArchLayout,
  type SingleArchLayout,
} from "./support/image-builder";
import { describeRun, dockerRef, ociRef, runSkopeo, skopeo } from "./support/skopeo";

const KiB = 1024;

interface InspectOutput {
  Name: string;
  Digest: string;
  RepoTags: string[];
  Architecture: string;
  Os: string;
  Layers: string[];
  LayersData?: { MIMEType: string; Digest: string; Size: number }[];
  Labels: Record<string, string> | null;
}

interface ListTagsOutput {
  Repository: string;
  Tags: string[];
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${what} is not JSON:\n${text}`);
  }
}

describe("skopeo inspect, list-tags and delete", () => {
  const repository = "team-a/inspect-me";
  const multiRepository = "team-a/inspect-multi";
  let images: string;
  let app: SingleArchLayout;
  let other: SingleArchLayout;
  let multi: MultiArchLayout;

  // Pushes app as v1, v2 and latest, other as other, and multi as m1 (the last test deletes).
  beforeAll(async () => {
    images = await mkdtemp(join(inject("e2eTempDir"), "inspect-images-"));
    app = await buildSingleArchLayout({
      seed: "inspect/app",
      tag: "v1",
      layers: [{ size: 96 * KiB }, { size: 64 * KiB }],
      dir: join(images, "app"),
    });
    other = await buildSingleArchLayout({
      seed: "inspect/other",
      tag: "other",
      layers: [{ size: 48 * KiB }],
      dir: join(images, "other"),
    });
    multi = await buildMultiArchLayout({
      seed: "inspect/multi",
      tag: "m1",
      layers: [{ size: 32 * KiB }],
      dir: join(images, "multi"),
    });
    const options = { tmpDir: images };
    await skopeo(
      ["copy", "--preserve-digests", "--dest-tls-verify=false", ociRef(app.path, "v1"), dockerRef(repository, "v1")],
      options,
    );
    for (const tag of ["v2", "latest"]) {
      await skopeo(
        [
          "copy",
          "--preserve-digests",
          "--src-tls-verify=false",
          "--dest-tls-verify=false",
          dockerRef(repository, "v1"),
          dockerRef(repository, tag),
        ],
        options,
      );
    }
    await skopeo(
      [
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        ociRef(other.path, "other"),
        dockerRef(repository, "other"),
      ],
      options,
    );
    await skopeo(
      [
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        ociRef(multi.path, "m1"),
        dockerRef(multiRepository, "m1"),
      ],
      options,
    );
  });

  afterAll(async () => {
    if (images) await rm(images, { recursive: true, force: true });
  });

  it("inspect --raw returns the pushed manifest byte for byte; inspect names its digest", async () => {
    const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", dockerRef(repository, "v1")]);
    expect(raw.stdout.equals(app.image.manifest.bytes), `inspect --raw differs:\n${raw.stdoutText}`).toBe(true);

    const config = await skopeo(["inspect", "--config", "--raw", "--tls-verify=false", dockerRef(repository, "v1")]);
    expect(config.stdout.equals(app.image.config.bytes), `inspect --config --raw differs:\n${config.stdoutText}`).toBe(
      true,
    );

    const inspected = parseJson<InspectOutput>(
      (await skopeo(["inspect", "--tls-verify=false", dockerRef(repository, "v1")])).stdoutText,
      "inspect",
    );
    expect(inspected.Digest).toBe(app.manifestDigest);
    expect(inspected.Name).toBe(`${inject("registryHost")}/${repository}`);
    expect(inspected.Architecture).toBe("amd64");
    expect(inspected.Os).toBe("linux");
    expect(inspected.Layers).toEqual(app.layerDigests);
    expect([...inspected.RepoTags].sort()).toEqual(["latest", "other", "v1", "v2"]);
    expect(inspected.Labels).toEqual({ "org.opencontainers.image.title": "inspect/app" });

    const byDigest = parseJson<InspectOutput>(
      (await skopeo(["inspect", "--tls-verify=false", dockerRef(repository, app.manifestDigest)])).stdoutText,
      "inspect by digest",
    );
    expect(byDigest.Digest).toBe(app.manifestDigest);
  });

  it("inspect of a multi-arch index: --raw is the index, parsed output describes the platform's image", async () => {
    const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", dockerRef(multiRepository, "m1")]);
    expect(raw.stdout.equals(multi.index.bytes), `inspect --raw differs:\n${raw.stdoutText}`).toBe(true);

    for (const image of multi.images) {
      const platform = ["--override-os", image.platform.os, "--override-arch", image.platform.architecture];
      if (image.platform.variant) platform.push("--override-variant", image.platform.variant);
      const result = await skopeo([...platform, "inspect", "--tls-verify=false", dockerRef(multiRepository, "m1")]);
      const inspected = parseJson<InspectOutput>(result.stdoutText, "inspect");
      // skopeo names the digest of what the reference points at (the index) ...
      expect(inspected.Digest, describeRun(result)).toBe(multi.indexDigest);
      // ... and describes the image it picked for the platform.
      expect(inspected.Architecture, describeRun(result)).toBe(image.platform.architecture);
      expect(inspected.Labels).toEqual({
        "org.opencontainers.image.title": `inspect/multi/${image.platform.os}-${image.platform.architecture}${image.platform.variant ?? ""}`,
      });
      expect(inspected.Layers).toEqual(image.layers.map((l) => l.blob.digest));
    }
  });

  it("list-tags lists the pushed tags", async () => {
    const listed = parseJson<ListTagsOutput>(
      (await skopeo(["list-tags", "--tls-verify=false", dockerRef(repository)])).stdoutText,
      "list-tags",
    );
    expect(listed.Repository).toBe(`${inject("registryHost")}/${repository}`);
    expect([...listed.Tags].sort()).toEqual(["latest", "other", "v1", "v2"]);

    const multiTags = parseJson<ListTagsOutput>(
      (await skopeo(["list-tags", "--tls-verify=false", dockerRef(multiRepository)])).stdoutText,
      "list-tags",
    );
    expect(multiTags.Tags).toEqual(["m1"]);

    const unknown = await runSkopeo(["list-tags", "--tls-verify=false", dockerRef("team-a/never-pushed")]);
    expect(unknown.code, describeRun(unknown)).not.toBe(0);
  });

  it("delete removes the image; inspect then fails", async () => {
    await skopeo(["delete", "--tls-verify=false", dockerRef(repository, "v1")]);

    // skopeo deletes by digest (it resolves the tag first), so every tag on that manifest goes.
    for (const tag of ["v1", "v2", "latest"]) {
      const inspect = await runSkopeo(["inspect", "--raw", "--tls-verify=false", dockerRef(repository, tag)]);
      expect(inspect.code, `inspect of deleted ${tag} should fail\n${describeRun(inspect)}`).not.toBe(0);
      expect(inspect.stderr, describeRun(inspect)).toMatch(/manifest unknown/i);
    }
    const byDigest = await runSkopeo([
      "inspect",
      "--raw",
      "--tls-verify=false",
      dockerRef(repository, app.manifestDigest),
    ]);
    expect(byDigest.code, describeRun(byDigest)).not.toBe(0);
    const head = await registryFetch("HEAD", `/v2/${repository}/manifests/${app.manifestDigest}`);
    expect(head.status).toBe(404);

    // The other image is untouched.
    const still = await skopeo(["inspect", "--raw", "--tls-verify=false", dockerRef(repository, "other")]);
    expect(still.stdout.equals(other.image.manifest.bytes)).toBe(true);
    const listed = parseJson<ListTagsOutput>(
      (await skopeo(["list-tags", "--tls-verify=false", dockerRef(repository)])).stdoutText,
      "list-tags",
    );
    expect(listed.Tags).toEqual(["other"]);

    // Deleting it again fails.
    const again = await runSkopeo(["delete", "--tls-verify=false", dockerRef(repository, "v1")]);
    expect(again.code, describeRun(again)).not.toBe(0);
  });
});
