/**
 * Several skopeo pushes at once: the same image to one repository under different tags (so the
 * same blobs are uploaded concurrently), then everything pulls back intact.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fetchManifest, useTempDir } from "./support/context";
import { buildSingleArchLayout, readBlob } from "./support/image-builder";
import { dockerRef, ociRef, skopeo } from "./support/skopeo";

const KiB = 1024;
const MiB = 1024 * KiB;

describe("concurrent pushes", () => {
  const tmp = useTempDir("concurrent-");

  it("pushes one image to three tags of one repository at the same time", async () => {
    const image = await buildSingleArchLayout({
      seed: "concurrent/same-blobs",
      tag: "src",
      layers: [{ size: 9 * MiB }, { size: 200 * KiB }, { size: 100 * KiB }],
      dir: join(tmp.path, "image"),
    });
    const repository = "team-a/concurrent";
    const tags = ["c1", "c2", "c3"];
    await Promise.all(
      tags.map((tag) =>
        skopeo(
          [
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            ociRef(image.path, "src"),
            dockerRef(repository, tag),
          ],
          {
            tmpDir: tmp.path,
            timeoutMs: 180_000,
          },
        ),
      ),
    );
    for (const tag of tags) {
      const served = await fetchManifest(repository, tag);
      expect(served.digest).toBe(image.manifestDigest);
    }
    const out = join(tmp.path, "pulled");
    await skopeo(
      ["copy", "--preserve-digests", "--src-tls-verify=false", dockerRef(repository, "c2"), ociRef(out, "c2")],
      { tmpDir: tmp.path },
    );
    for (const digest of image.blobDigests) {
      const original = await readBlob(image.path, digest);
      expect((await readBlob(out, digest)).equals(original), `blob ${digest} differs`).toBe(true);
    }
  });
});
