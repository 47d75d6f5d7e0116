/**
 * ECR's imageSizeInBytes is stored with the manifest row when it is pushed over /v2.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bytesOf, OCI_INDEX, pushImage, putManifestBytes, randomBytes } from "../support/registry";

async function storedImageSize(name: string, digest: string): Promise<number | null | undefined> {
  const row = await env.DB.prepare("SELECT image_size FROM manifests WHERE repository = ? AND digest = ?")
    .bind(name, digest)
    .first<{ image_size: number | null }>();
  return row?.image_size;
}

describe("image size at push", () => {
  it("stores config plus layer sizes for an image manifest, and null for an index", async () => {
    const name = "team-a/sized";
    const image = await pushImage(name, "v1", { layers: [randomBytes(1000), randomBytes(234)] });
    const config = image.manifest.config as { size: number };
    expect(await storedImageSize(name, image.digest)).toBe(config.size + 1000 + 234);

    const index = bytesOf(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: image.manifest.mediaType, digest: image.digest, size: image.bytes.length }],
      }),
    );
    const put = await putManifestBytes(name, "multi", index, OCI_INDEX);
    expect(put.status).toBe(201);
    expect(await storedImageSize(name, put.headers.get("Docker-Content-Digest")!)).toBeNull();
  });
});
