/**
 * skopeo list-tags over more tags than one page of the tag list (1,000 by default): skopeo
 * follows the registry's `Link: <...>; rel="next"` header and must see every tag once.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { registryFetch, useTempDir } from "./support/context";
import { buildSingleArchLayout } from "./support/image-builder";
import { dockerRef, ociRef, skopeo } from "./support/skopeo";

const TAG_COUNT = 1_005;

describe("skopeo list-tags with a paginated tag list", () => {
  const tmp = useTempDir("tags-");

  it(`lists all ${TAG_COUNT} tags, across pages`, async () => {
    const image = await buildSingleArchLayout({
      seed: "tags/many",
      tag: "t0000",
      layers: [{ size: 4 * 1024 }],
      dir: join(tmp.path, "image"),
    });
    const repository = "team-a/many-tags";
    await skopeo(
      [
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        ociRef(image.path, "t0000"),
        dockerRef(repository, "t0000"),
      ],
      {
        tmpDir: tmp.path,
      },
    );

    // The other tags go straight over HTTP (a manifest PUT per tag), a few at a time.
    const wanted = Array.from({ length: TAG_COUNT }, (_, i) => `t${String(i).padStart(4, "0")}`);
    const queue = wanted.slice(1);
    const worker = async () => {
      for (let tag = queue.shift(); tag !== undefined; tag = queue.shift()) {
        const response = await registryFetch("PUT", `/v2/${repository}/manifests/${tag}`, {
          body: image.image.manifest.bytes,
          headers: { "Content-Type": image.image.descriptor.mediaType },
        });
        const text = await response.text();
        if (response.status !== 201) throw new Error(`PUT manifest ${tag}: ${response.status} ${text}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    // One page is not all of them: the registry paginates and says where the next page is.
    const first = await registryFetch("GET", `/v2/${repository}/tags/list`);
    const firstPage = (await first.json()) as { tags: string[] };
    expect(firstPage.tags.length).toBeLessThan(TAG_COUNT);
    expect(first.headers.get("Link")).toMatch(/rel="next"/);

    const listed = JSON.parse(
      (await skopeo(["list-tags", "--tls-verify=false", dockerRef(repository)])).stdoutText,
    ) as { Tags: string[] };
    expect(listed.Tags.length).toBe(TAG_COUNT);
    expect([...listed.Tags].sort()).toEqual(wanted);
  });
});
