/**
 * Pushes a small single-layer OCI image over plain HTTP (monolithic blob uploads, then the
 * manifest), for tests that need images in a registry of their own without skopeo.
 */
import { createHash, randomBytes } from "node:crypto";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Pushes `repository:tag` with a random layer to the registry at `url`; returns the manifest digest. */
export async function pushTinyImage(
  url: string,
  authorization: string,
  repository: string,
  tag: string,
): Promise<string> {
  const layer = randomBytes(256);
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [digestOf(layer)] } }),
  );
  for (const blob of [config, layer]) {
    const response = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digestOf(blob)}`, {
      method: "POST",
      body: blob,
      headers: { Authorization: authorization },
    });
    if (response.status !== 201)
      throw new Error(`blob upload to ${repository}: ${response.status} ${await response.text()}`);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digestOf(config), size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: digestOf(layer), size: layer.length }],
  });
  const put = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    body: manifest,
    headers: { Authorization: authorization, "Content-Type": MANIFEST },
  });
  if (put.status !== 201) throw new Error(`manifest PUT ${repository}:${tag}: ${put.status} ${await put.text()}`);
  return digestOf(Buffer.from(manifest));
}

/** The status of a GET of `repository:reference`'s manifest (200 while the image is there). */
export async function manifestStatus(
  url: string,
  authorization: string,
  repository: string,
  reference: string,
): Promise<number> {
  const response = await fetch(`${url}/v2/${repository}/manifests/${reference}`, {
    headers: { Authorization: authorization, Accept: MANIFEST },
  });
  await response.arrayBuffer();
  return response.status;
}

/** A lifecycle policy keeping only the newest image of the repository. */
export const KEEP_ONE_IMAGE = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: "keep one",
      selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 },
      action: { type: "expire" },
    },
  ],
});
