/**
 * Builds test images without Docker: a minimal ustar writer, gzip from node:zlib, and an OCI
 * image layout writer (`oci-layout`, `index.json`, `blobs/sha256/<hex>`).
 *
 * Everything is deterministic: the same options give the same bytes, so the same digests.
 * Layer content comes from a seeded PRNG (incompressible, so a layer of N bytes stays close to
 * N bytes after gzip). Node built-ins only.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const MediaTypes = {
  OCI_LAYOUT_VERSION: "1.0.0",
  OCI_MANIFEST: "application/vnd.oci.image.manifest.v1+json",
  OCI_INDEX: "application/vnd.oci.image.index.v1+json",
  OCI_CONFIG: "application/vnd.oci.image.config.v1+json",
  OCI_LAYER_GZIP: "application/vnd.oci.image.layer.v1.tar+gzip",
  OCI_LAYER_TAR: "application/vnd.oci.image.layer.v1.tar",
} as const;

/** The annotation `skopeo copy oci:<dir>:<tag>` looks a tag up by. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

/** Every tar entry gets this mtime (2020-01-01T00:00:00Z) so layers are reproducible. */
export const FIXED_MTIME = 1_577_836_800;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface Blob {
  digest: string;
  bytes: Buffer;
}

// ---- digests and randomness ---------------------------------------------------------------

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** sfc32 seeded from a string through SHA-256: fast, deterministic, good enough for fill. */
export function seededRandom(seed: string): (out: Uint8Array) => void {
  const key = createHash("sha256").update(seed).digest();
  let a = key.readUInt32LE(0);
  let b = key.readUInt32LE(4);
  let c = key.readUInt32LE(8);
  let d = key.readUInt32LE(12);
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) next();
  return (out: Uint8Array) => {
    const whole = out.length & ~3;
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let at = 0; at < whole; at += 4) view.setUint32(at, next(), true);
    if (whole < out.length) {
      const last = next();
      for (let at = whole; at < out.length; at++) out[at] = (last >>> ((at - whole) * 8)) & 0xff;
    }
  };
}

export function randomBytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  seededRandom(seed)(out);
  return out;
}

// ---- ustar ----------------------------------------------------------------------------------

export interface TarFile {
  /** Path inside the archive, relative, `/`-separated, at most 100 bytes (no prefix split). */
  name: string;
  content: Uint8Array;
  /** Octal permission bits; 0o644 unless given. */
  mode?: number;
}

const BLOCK = 512;

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > length) throw new Error(`tar header field "${value}" is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

/** A NUL-terminated, zero-padded octal number filling `length` bytes. */
function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, "0");
  if (digits.length > length - 1) throw new Error(`${value} does not fit a ${length}-byte tar field`);
  writeString(header, offset, length, `${digits}\0`);
}

function tarHeader(file: TarFile): Buffer {
  const header = Buffer.alloc(BLOCK);
  writeString(header, 0, 100, file.name); // name
  writeOctal(header, 100, 8, file.mode ?? 0o644); // mode
  writeOctal(header, 108, 8, 0); // uid
  writeOctal(header, 116, 8, 0); // gid
  writeOctal(header, 124, 12, file.content.length); // size
  writeOctal(header, 136, 12, FIXED_MTIME); // mtime
  header.fill(0x20, 148, 156); // chksum: spaces while summing
  header[156] = 0x30; // typeflag '0': regular file
  writeString(header, 257, 6, "ustar\0"); // magic
  writeString(header, 263, 2, "00"); // version
  writeString(header, 265, 32, "root"); // uname
  writeString(header, 297, 32, "root"); // gname
  writeOctal(header, 329, 8, 0); // devmajor
  writeOctal(header, 337, 8, 0); // devminor
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return header;
}

/** A ustar archive of regular files, each padded to 512-byte blocks, ended by two zero blocks. */
export function tar(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(tarHeader(file), Buffer.from(file.content.buffer, file.content.byteOffset, file.content.byteLength));
    const padding = (BLOCK - (file.content.length % BLOCK)) % BLOCK;
    if (padding > 0) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

// ---- images ---------------------------------------------------------------------------------

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface LayerSpec {
  /** Bytes of file content in the layer (before tar and gzip). */
  size: number;
  /** How many files the content is split into; 1 unless given. */
  files?: number;
  /** How the layer blob is stored: gzip (the default) or a plain tar. */
  compression?: "gzip" | "none";
}

export interface BuiltLayer {
  /** The layer blob (the gzip-compressed tar, unless compression is "none"). */
  blob: Blob;
  /** The uncompressed tar. */
  tar: Buffer;
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
}

export interface BuiltImage {
  platform: Platform;
  config: Blob;
  layers: BuiltLayer[];
  manifest: Blob;
  /** Descriptor of the manifest (with its platform), as an index lists it. */
  descriptor: Descriptor;
}

export function buildLayer(seed: string, spec: LayerSpec): BuiltLayer {
  const count = Math.max(1, spec.files ?? 1);
  const files: TarFile[] = [];
  let left = spec.size;
  for (let index = 0; index < count; index++) {
    const size = index === count - 1 ? left : Math.floor(spec.size / count);
    left -= size;
    files.push({
      name: `data/${seed.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 60)}/file-${index}.bin`,
      content: randomBytes(`${seed}/${index}`, size),
    });
  }
  const archive = tar(files);
  const compressed = spec.compression !== "none";
  const bytes = compressed ? gzipSync(archive, { level: 6 }) : archive;
  const digest = sha256(bytes);
  return {
    blob: { digest, bytes },
    tar: archive,
    descriptor: {
      mediaType: compressed ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER_TAR,
      digest,
      size: bytes.length,
    },
    diffId: sha256(archive),
  };
}

function jsonBlob(value: unknown): Blob {
  const bytes = Buffer.from(JSON.stringify(value), "utf8");
  return { digest: sha256(bytes), bytes };
}

export interface ImageOptions {
  /** Seeds every layer's content; different seeds give different (unshared) layers. */
  seed: string;
  layers: readonly LayerSpec[];
  platform?: Platform;
}

export function buildImage(options: ImageOptions): BuiltImage {
  const platform = options.platform ?? { architecture: "amd64", os: "linux" };
  const layers = options.layers.map((spec, index) => buildLayer(`${options.seed}/layer-${index}`, spec));
  const created = new Date(FIXED_MTIME * 1000).toISOString();
  const config = jsonBlob({
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      Cmd: ["/bin/sh"],
      Labels: { "org.opencontainers.image.title": options.seed },
    },
    rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.diffId) },
    history: layers.map((_, index) => ({ created, created_by: `image-builder: layer ${index} of ${options.seed}` })),
  });
  const manifest = jsonBlob({
    schemaVersion: 2,
    mediaType: MediaTypes.OCI_MANIFEST,
    config: { mediaType: MediaTypes.OCI_CONFIG, digest: config.digest, size: config.bytes.length },
    layers: layers.map((layer) => layer.descriptor),
    annotations: { "org.opencontainers.image.created": created },
  });
  return {
    platform,
    config,
    layers,
    manifest,
    descriptor: {
      mediaType: MediaTypes.OCI_MANIFEST,
      digest: manifest.digest,
      size: manifest.bytes.length,
      platform: { ...platform },
    },
  };
}

// ---- OCI layout -----------------------------------------------------------------------------

export async function writeBlob(layout: string, blob: Blob): Promise<void> {
  const [algorithm, hex] = blob.digest.split(":") as [string, string];
  await mkdir(join(layout, "blobs", algorithm), { recursive: true });
  await writeFile(join(layout, "blobs", algorithm, hex), blob.bytes);
}

export async function readBlob(layout: string, digest: string): Promise<Buffer> {
  const [algorithm, hex] = digest.split(":") as [string, string];
  return readFile(join(layout, "blobs", algorithm, hex));
}

/** Writes `oci-layout`, the blobs and an `index.json` naming `top` with the tag annotation. */
export async function writeLayout(layout: string, blobs: readonly Blob[], top: Descriptor, tag: string): Promise<void> {
  await mkdir(layout, { recursive: true });
  await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: MediaTypes.OCI_LAYOUT_VERSION }));
  for (const blob of blobs) await writeBlob(layout, blob);
  const entry: Descriptor = {
    mediaType: top.mediaType,
    digest: top.digest,
    size: top.size,
    annotations: { [REF_NAME_ANNOTATION]: tag },
  };
  await writeFile(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
}

async function layoutDir(dir: string | undefined): Promise<string> {
  return dir ?? (await mkdtemp(join(tmpdir(), "oci-layout-")));
}

export interface SingleArchLayout {
  /** The layout directory; `oci:<path>:<tag>` names the image. */
  path: string;
  tag: string;
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
  /** Config and layers (not the manifest), in manifest order. */
  blobDigests: string[];
  image: BuiltImage;
}

export interface MultiArchLayout {
  path: string;
  tag: string;
  indexDigest: string;
  index: Blob;
  images: BuiltImage[];
  manifestDigests: string[];
  /** Every config and layer of every child, deduplicated. */
  blobDigests: string[];
}

/** (a) A single-arch image with one layer per entry of `layers`, written as an OCI layout. */
export async function buildSingleArchLayout(
  options: ImageOptions & { tag: string; dir?: string },
): Promise<SingleArchLayout> {
  const image = buildImage(options);
  const path = await layoutDir(options.dir);
  await writeLayout(
    path,
    [image.config, ...image.layers.map((l) => l.blob), image.manifest],
    image.descriptor,
    options.tag,
  );
  const layerDigests = image.layers.map((layer) => layer.blob.digest);
  return {
    path,
    tag: options.tag,
    manifestDigest: image.manifest.digest,
    configDigest: image.config.digest,
    layerDigests,
    blobDigests: [image.config.digest, ...layerDigests],
    image,
  };
}

/** (b) An OCI image index over one image per platform (linux/amd64 and linux/arm64 by default). */
export async function buildMultiArchLayout(options: {
  seed: string;
  tag: string;
  layers: readonly LayerSpec[];
  platforms?: readonly Platform[];
  dir?: string;
}): Promise<MultiArchLayout> {
  const platforms = options.platforms ?? [
    { architecture: "amd64", os: "linux" },
    { architecture: "arm64", os: "linux", variant: "v8" },
  ];
  const images = platforms.map((platform) =>
    buildImage({
      seed: `${options.seed}/${platform.os}-${platform.architecture}${platform.variant ?? ""}`,
      layers: options.layers,
      platform,
    }),
  );
  const index = jsonBlob({
    schemaVersion: 2,
    mediaType: MediaTypes.OCI_INDEX,
    manifests: images.map((image) => image.descriptor),
  });
  const path = await layoutDir(options.dir);
  const blobs = images.flatMap((image) => [image.config, ...image.layers.map((l) => l.blob), image.manifest]);
  await writeLayout(
    path,
    [...blobs, index],
    { mediaType: MediaTypes.OCI_INDEX, digest: index.digest, size: index.bytes.length },
    options.tag,
  );
  const blobDigests = [
    ...new Set(images.flatMap((image) => [image.config.digest, ...image.layers.map((l) => l.blob.digest)])),
  ];
  return {
    path,
    tag: options.tag,
    indexDigest: index.digest,
    index,
    images,
    manifestDigests: images.map((image) => image.manifest.digest),
    blobDigests,
  };
}

/** Reads a layout's `index.json` and returns the descriptor tagged `tag` (or the only one). */
export async function readLayoutEntry(layout: string, tag?: string): Promise<Descriptor> {
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as { manifests: Descriptor[] };
  const found =
    tag === undefined ? index.manifests : index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] === tag);
  if (found.length !== 1) throw new Error(`${layout}/index.json has ${found.length} entries for tag ${tag ?? "(any)"}`);
  return found[0]!;
}
