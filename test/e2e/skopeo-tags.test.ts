/**
 * Tag semantics seen through skopeo: moving a mutable tag, immutable repositories
 * (ECR CreateRepository with IMMUTABLE), and pushing again after a delete.
 */
import { join } from "node:path";
import { CreateRepositoryCommand } from "@aws-sdk/client-ecr";
import { describe, expect, it } from "vitest";
import { fetchManifest, useTempDir } from "./support/context";
import { ecrClient } from "./support/ecr";
import { buildSingleArchLayout } from "./support/image-builder";
import { describeRun, dockerRef, ociRef, runSkopeo, skopeo } from "./support/skopeo";

const KiB = 1024;

async function inspectRaw(repository: string, reference: string): Promise<Buffer> {
  return (await skopeo(["inspect", "--raw", "--tls-verify=false", dockerRef(repository, reference)])).stdout;
}

describe("tags through skopeo", () => {
  const tmp = useTempDir("tags-");

  async function twoImages(name: string) {
    const a = await buildSingleArchLayout({
      seed: `tags/${name}/a`,
      tag: "a",
      layers: [{ size: 40 * KiB }],
      dir: join(tmp.path, "a"),
    });
    const b = await buildSingleArchLayout({
      seed: `tags/${name}/b`,
      tag: "b",
      layers: [{ size: 40 * KiB }],
      dir: join(tmp.path, "b"),
    });
    return { a, b };
  }

  it("moves a mutable tag to the newly pushed image; the old one stays reachable by digest", async () => {
    const { a, b } = await twoImages("mutable");
    const repository = "team-a/moving-tag";
    await skopeo(
      ["copy", "--preserve-digests", "--dest-tls-verify=false", ociRef(a.path, "a"), dockerRef(repository, "latest")],
      { tmpDir: tmp.path },
    );
    expect((await inspectRaw(repository, "latest")).equals(a.image.manifest.bytes)).toBe(true);

    await skopeo(
      ["copy", "--preserve-digests", "--dest-tls-verify=false", ociRef(b.path, "b"), dockerRef(repository, "latest")],
      { tmpDir: tmp.path },
    );
    expect((await inspectRaw(repository, "latest")).equals(b.image.manifest.bytes)).toBe(true);
    expect((await inspectRaw(repository, a.manifestDigest)).equals(a.image.manifest.bytes)).toBe(true);
  });

  it("refuses to move a tag of an IMMUTABLE repository, but accepts the same image again", async () => {
    const { a, b } = await twoImages("immutable");
    const repository = "team-a/immutable";
    await ecrClient().send(
      new CreateRepositoryCommand({ repositoryName: repository, imageTagMutability: "IMMUTABLE" }),
    );

    await skopeo(
      ["copy", "--preserve-digests", "--dest-tls-verify=false", ociRef(a.path, "a"), dockerRef(repository, "v1")],
      { tmpDir: tmp.path },
    );
    // The same manifest under the same tag is not a change.
    await skopeo(
      ["copy", "--preserve-digests", "--dest-tls-verify=false", ociRef(a.path, "a"), dockerRef(repository, "v1")],
      { tmpDir: tmp.path },
    );

    const refused = await runSkopeo(
      ["copy", "--preserve-digests", "--dest-tls-verify=false", ociRef(b.path, "b"), dockerRef(repository, "v1")],
      {
        tmpDir: tmp.path,
      },
    );
    expect(refused.code, describeRun(refused)).not.toBe(0);
    expect(refused.stderr, describeRun(refused)).toMatch(/tag invalid|TAG_INVALID/i);
    expect(refused.stderr, describeRun(refused)).toMatch(/immutable/i);
    expect((await inspectRaw(repository, "v1")).equals(a.image.manifest.bytes)).toBe(true);

    // A new tag is fine.
    await skopeo(
      ["copy", "--preserve-digests", "--dest-tls-verify=false", ociRef(b.path, "b"), dockerRef(repository, "v2")],
      { tmpDir: tmp.path },
    );
    expect((await inspectRaw(repository, "v2")).equals(b.image.manifest.bytes)).toBe(true);
  });

  it("pushes an image again after skopeo delete removed it", async () => {
    const { a } = await twoImages("re-push");
    const repository = "team-a/re-push";
    await skopeo(
      ["copy", "--preserve-digests", "--dest-tls-verify=false", ociRef(a.path, "a"), dockerRef(repository, "v1")],
      { tmpDir: tmp.path },
    );
    await skopeo(["delete", "--tls-verify=false", dockerRef(repository, "v1")]);
    const gone = await runSkopeo(["inspect", "--raw", "--tls-verify=false", dockerRef(repository, "v1")]);
    expect(gone.code, describeRun(gone)).not.toBe(0);

    await skopeo(
      ["copy", "--preserve-digests", "--dest-tls-verify=false", ociRef(a.path, "a"), dockerRef(repository, "v1")],
      { tmpDir: tmp.path },
    );
    const served = await fetchManifest(repository, "v1");
    expect(served.digest).toBe(a.manifestDigest);
    expect(served.bytes.equals(a.image.manifest.bytes)).toBe(true);
    const out = join(tmp.path, "pulled");
    await skopeo(
      ["copy", "--preserve-digests", "--src-tls-verify=false", dockerRef(repository, "v1"), ociRef(out, "v1")],
      { tmpDir: tmp.path },
    );
  });
});
