// Test images as OCI layouts: each layer an uncompressed tar holding one file of random bytes
// (media type application/vnd.oci.image.layer.v1.tar), plus a config and a manifest. The scan
// workload's realistic gzip layers are built by ./scan-image.mjs with the helpers here.
import { createHash, randomFillSync } from "node:crypto";
import { createWriteStream, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const MiB = 1024 * 1024;
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
export const OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

/**
 * A ustar header: `type` "0" a file, "5" a directory; a name longer than 100 bytes is split
 * into the prefix field at a slash.
 */
export function tarHeader(name, size, { mode = 0o644, type = "0" } = {}) {
  const header = Buffer.alloc(512);
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar name too long: ${name}`);
    [prefix, name] = [name.slice(0, cut), name.slice(cut + 1)];
  }
  header.write(name, 0);
  header.write(mode.toString(8).padStart(7, "0") + "\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(size.toString(8).padStart(11, "0") + "\0", 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write(type, 156);
  header.write("ustar\u000000", 257);
  header.write(prefix, 345);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return header;
}

/** Writes a tar of one file with `size` random bytes to `blobsDir`; returns {digest, size, path}. */
export async function writeRandomTarLayer(blobsDir, size, name = "payload.bin") {
  const tmp = join(blobsDir, `layer-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  const out = createWriteStream(tmp, { highWaterMark: 4 * MiB });
  const hash = createHash("sha256");
  let total = 0;
  const write = (buf) => {
    hash.update(buf);
    total += buf.length;
    return out.write(buf) ? Promise.resolve() : new Promise((r) => out.once("drain", r));
  };
  await write(tarHeader(name, size));
  for (let left = size; left > 0;) {
    const block = randomFillSync(Buffer.allocUnsafe(Math.min(left, 4 * MiB)));
    await write(block);
    left -= block.length;
  }
  await write(Buffer.alloc(((512 - (size % 512)) % 512) + 1024));
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
  const hex = hash.digest("hex");
  const path = join(blobsDir, hex);
  renameSync(tmp, path);
  return { digest: `sha256:${hex}`, size: total, path };
}

export function writeJsonBlob(blobsDir, object) {
  const bytes = Buffer.from(JSON.stringify(object));
  const hex = createHash("sha256").update(bytes).digest("hex");
  writeFileSync(join(blobsDir, hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length, path: join(blobsDir, hex), bytes };
}

/**
 * Writes an OCI layout at `dir` holding one image tagged `tag` whose layers are random tars of
 * the given content sizes. Returns what the benchmarks need to address it.
 */
export async function buildLayout(dir, layerSizes, tag = "latest") {
  const blobsDir = join(dir, "blobs", "sha256");
  mkdirSync(blobsDir, { recursive: true });
  const layers = [];
  for (let i = 0; i < layerSizes.length; i++)
    layers.push(await writeRandomTarLayer(blobsDir, layerSizes[i], `layer-${i}.bin`));
  return writeLayout(dir, layers, tag);
}

/**
 * Writes the config, manifest, oci-layout and index.json of an image whose layer blobs are
 * already in `dir`/blobs/sha256 (`layers`: {digest, size, path, diffId?}, diffId defaulting to
 * the digest, as for an uncompressed layer), of `layerMediaType`. What buildLayout returns.
 */
export function writeLayout(dir, layers, tag, layerMediaType = OCI_LAYER_TAR) {
  const blobsDir = join(dir, "blobs", "sha256");
  const config = writeJsonBlob(blobsDir, {
    architecture: "amd64",
    os: "linux",
    created: new Date().toISOString(),
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId ?? l.digest) },
  });
  const manifest = writeJsonBlob(blobsDir, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: layerMediaType, digest: l.digest, size: l.size })),
  });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: manifest.digest,
          size: manifest.size,
          annotations: { "org.opencontainers.image.ref.name": tag },
        },
      ],
    }),
  );
  const layerBytes = layers.reduce((a, l) => a + l.size, 0);
  return {
    dir,
    tag,
    ref: `oci:${dir}:${tag}`,
    layers,
    config,
    manifest,
    layerBytes,
    totalBytes: layerBytes + config.size + manifest.size,
  };
}
