#!/usr/bin/env node
// Pushes and pulls an image with one large layer (default 1 GiB) through skopeo against a
// registry started here with `npm start`, and reports throughput and the peak memory (VmHWM)
// of the runtime's workerd processes during each direction.
//   node bench/large-layer.mjs [--size-mib 1024]
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, openSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { newAdminKey, newSigningKeyJwk } from "../scripts/dev-vars.mjs";

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sizeArg = process.argv.indexOf("--size-mib");
const sizeMiB = sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : 1024;
const layerSize = sizeMiB * 1024 * 1024;

function freePort() {
  return new Promise((ok) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

async function waitReady(url, log) {
  for (let i = 0; i < 180; i++) {
    try {
      if ([200, 401].includes((await fetch(`${url}/v2/`)).status)) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`registry did not start:\n${readFileSync(log, "utf8")}`);
}

/** workerd processes in the server's process group. */
function workerdPids(pgid) {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return Number(fields[2]) === pgid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd");
      } catch {
        return false;
      }
    })
    .map(Number);
}

function resetPeaks(pids) {
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
    } catch {}
  }
}

function peaksMiB(pids) {
  return pids.map((pid) => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return `${pid}:${Math.round(Number(match?.[1] ?? 0) / 1024)}`;
    } catch {
      return `${pid}:gone`;
    }
  });
}

/** Writes an OCI layout holding one image whose single layer is a tar of `size` random bytes. */
async function buildLayout(dir, size) {
  const blobs = join(dir, "blobs", "sha256");
  await run("mkdir", ["-p", blobs]);
  const tmp = join(dir, "layer.tmp");
  const out = createWriteStream(tmp);
  const hash = createHash("sha256");
  const write = (buf) => {
    hash.update(buf);
    return out.write(buf) ? Promise.resolve() : new Promise((r) => out.once("drain", r));
  };
  const header = Buffer.alloc(512);
  header.write("payload.bin", 0);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(size.toString(8).padStart(11, "0") + "\0", 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write("0", 156);
  header.write("ustar\u000000", 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  await write(header);
  const block = randomBytes(4 * 1024 * 1024);
  for (let left = size; left > 0; left -= block.length) {
    block[0] = left & 0xff; // vary the blocks a little
    await write(left >= block.length ? block : block.subarray(0, left));
  }
  await write(Buffer.alloc((512 - (size % 512)) % 512 + 1024));
  await new Promise((r) => out.end(r));
  const layerDigest = hash.digest("hex");
  const layerSize = size + 512 + ((512 - (size % 512)) % 512) + 1024;
  await run("mv", [tmp, join(blobs, layerDigest)]);
  const blob = (obj) => {
    const bytes = Buffer.from(JSON.stringify(obj));
    const digest = createHash("sha256").update(bytes).digest("hex");
    writeFileSync(join(blobs, digest), bytes);
    return { digest: `sha256:${digest}`, size: bytes.length };
  };
  const config = blob({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [`sha256:${layerDigest}`] } });
  const manifest = blob({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${layerDigest}`, size: layerSize }],
  });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "big" } }],
    }),
  );
  return { layerDigest: `sha256:${layerDigest}`, layerSize };
}

async function timed(label, pgid, work) {
  const pids = workerdPids(pgid);
  resetPeaks(pids);
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  const peaks = peaksMiB(pids);
  return { label, seconds, peaks };
}

const work = mkdtempSync(join(tmpdir(), "registry-large-"));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const log = join(work, "server.log");
const admin = newAdminKey();
const authFile = join(work, "auth.json");
writeFileSync(authFile, JSON.stringify({ auths: { [`127.0.0.1:${port}`]: { auth: Buffer.from(`${admin.id}:${admin.secret}`).toString("base64") } } }));
const server = spawn(process.execPath, [join(root, "scripts/start.mjs")], {
  cwd: root,
  env: {
    ...process.env,
    PORT: String(port),
    REGISTRY_STATE_DIR: join(work, "state"),
    REGISTRY_ADMIN_ACCESS_KEY_ID: admin.id,
    REGISTRY_ADMIN_SECRET_ACCESS_KEY: admin.secret,
    REGISTRY_TOKEN_SIGNING_KEY: JSON.stringify(await newSigningKeyJwk()),
  },
  stdio: ["ignore", openSync(log, "a"), openSync(log, "a")],
  detached: true,
});
try {
  await new Promise((r) => setTimeout(r, 200));
  await waitReady(url, log);
  console.log(`registry on ${url}; building a ${sizeMiB} MiB layer...`);
  const source = join(work, "source");
  const { layerDigest, layerSize: bytes } = await buildLayout(source, layerSize);
  const image = `docker://127.0.0.1:${port}/bench/large:big`;
  const push = await timed("push", server.pid, () =>
    run("skopeo", ["copy", "--authfile", authFile, "--preserve-digests", "--dest-tls-verify=false", `oci:${source}:big`, image], { maxBuffer: 1 << 24 }),
  );
  const target = join(work, "pulled");
  const pull = await timed("pull", server.pid, () =>
    run("skopeo", ["copy", "--authfile", authFile, "--preserve-digests", "--src-tls-verify=false", image, `oci:${target}:big`], { maxBuffer: 1 << 24 }),
  );
  const pulled = join(target, "blobs", "sha256", layerDigest.slice(7));
  if (!existsSync(pulled)) throw new Error("pulled layout lacks the layer");
  const { stdout } = await run("sha256sum", [pulled]);
  if (`sha256:${stdout.split(" ")[0]}` !== layerDigest) throw new Error("pulled layer digest differs");
  console.log(`layer ${layerDigest} (${(bytes / 2 ** 20).toFixed(0)} MiB) round-tripped byte for byte`);
  for (const r of [push, pull]) {
    console.log(
      `${r.label}: ${r.seconds.toFixed(1)} s, ${(bytes / 2 ** 20 / r.seconds).toFixed(1)} MiB/s; peak RSS of workerd processes: ${r.peaks.join(", ")} MiB`,
    );
  }
} finally {
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {}
  await new Promise((r) => setTimeout(r, 1500));
  try {
    process.kill(-server.pid, "SIGKILL");
  } catch {}
  if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
