#!/usr/bin/env node
// `npm run -s make-image -- DIR [--tag TAG]`: writes a small OCI image into the OCI image
// layout DIR (created if needed; an existing layout gains the tag), offline, for trying the
// registry: `skopeo copy oci:DIR:TAG docker://localhost:8787/<repo>:TAG`. The image has one
// layer holding /hello.txt (a line with a random id, so every image made is a new one) and a
// linux/amd64 config whose command prints it.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const USAGE = `usage: npm run -s make-image -- DIR [--tag TAG]

Writes a small OCI image (one layer with /hello.txt) into the OCI layout DIR under TAG
(default: latest), for example for: skopeo copy oci:DIR:TAG docker://localhost:8787/team-a/hello:TAG`;

function fail(message, code = 1) {
  console.error(`make-image: ${message}${code === 2 ? `\n\n${USAGE}` : ""}`);
  process.exit(code);
}

let dir;
let tag = "latest";
const argv = process.argv.slice(2);
for (let index = 0; index < argv.length; index++) {
  const arg = argv[index];
  if (arg === "-h" || arg === "--help") {
    console.log(USAGE);
    process.exit(0);
  } else if (arg === "--tag" || arg.startsWith("--tag=")) {
    tag = arg === "--tag" ? argv[++index] : arg.slice("--tag=".length);
    if (!tag || !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) fail(`"${tag ?? ""}" is not a valid tag`, 2);
  } else if (arg.startsWith("-") || dir !== undefined) fail(`unknown argument "${arg}"`, 2);
  else dir = resolve(arg);
}
if (dir === undefined) fail("no layout directory given", 2);

const MEDIA = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
};

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** A ustar archive of regular files (name, content), as `tar` writes one. */
function tar(files) {
  const blocks = [];
  for (const { name, content, mode = 0o644 } of files) {
    const header = Buffer.alloc(512);
    const field = (text, offset, length) => header.write(text, offset, length, "ascii");
    const octal = (value, offset, length) => field(value.toString(8).padStart(length - 1, "0") + "\0", offset, length);
    field(name, 0, 100);
    octal(mode, 100, 8);
    octal(0, 108, 8);
    octal(0, 116, 8);
    octal(content.length, 124, 12);
    octal(1_577_836_800, 136, 12); // 2020-01-01: a fixed time
    field("        ", 148, 8); // the checksum counts its own field as spaces
    field("0", 156, 1);
    field("ustar\0", 257, 6);
    field("00", 263, 2);
    let sum = 0;
    for (const byte of header) sum += byte;
    field(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
    blocks.push(header, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const id = randomBytes(6).toString("hex");
const layerTar = tar([
  { name: "hello.txt", content: Buffer.from(`Hello from edge-registry (image ${id}, tag ${tag})\n`) },
]);
const layer = gzipSync(layerTar, { level: 9 });
const config = Buffer.from(
  JSON.stringify({
    created: new Date().toISOString(),
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["/bin/cat", "/hello.txt"] },
    rootfs: { type: "layers", diff_ids: [`sha256:${sha256(layerTar)}`] },
    history: [{ created_by: "npm run make-image" }],
  }),
);
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: `sha256:${sha256(config)}`, size: config.length },
    layers: [{ mediaType: MEDIA.layer, digest: `sha256:${sha256(layer)}`, size: layer.length }],
  }),
);

// An existing layout keeps its other tags; anything else in the way is refused.
const indexPath = join(dir, "index.json");
let index = { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [] };
if (existsSync(dir)) {
  if (existsSync(indexPath)) {
    try {
      index = JSON.parse(readFileSync(indexPath, "utf8"));
    } catch {
      fail(`${indexPath} is not JSON: is ${dir} an OCI layout?`);
    }
  } else if (readdirSync(dir).length > 0)
    fail(`${dir} exists and is not an OCI layout (no index.json): choose a new directory`);
}
try {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  for (const blob of [layer, config, manifest]) writeFileSync(join(dir, "blobs", "sha256", sha256(blob)), blob);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const REF = "org.opencontainers.image.ref.name";
  index.manifests = (index.manifests ?? []).filter((entry) => entry.annotations?.[REF] !== tag);
  index.manifests.push({
    mediaType: MEDIA.manifest,
    digest: `sha256:${sha256(manifest)}`,
    size: manifest.length,
    annotations: { [REF]: tag },
  });
  writeFileSync(indexPath, JSON.stringify(index, null, 2));
} catch (error) {
  fail(`cannot write ${dir}: ${error.message}`);
}
console.log(
  `Wrote image sha256:${sha256(manifest)} (${layer.length + config.length + manifest.length} bytes) to the OCI layout ${dir} as ${tag}.`,
);
