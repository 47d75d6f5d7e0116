#!/usr/bin/env node
// Pushes and pulls an image with one large layer (default 1 GiB) through skopeo against a
// registry started here with `npm start`, and reports throughput and the peak memory (VmHWM)
// of the runtime's workerd processes during each direction. A quick look at one size; the
// full comparison (with distribution and nginx, chunked and monolithic) is `npm run bench`.
//   npm exec -- node bench/large-layer.mjs [--size-mib 1024]
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLayout, MiB } from "./lib/images.mjs";
import { startEdgeRegistry } from "./lib/peers.mjs";
import { groupPidsNamed, killAllGroupsSync, memoryMiB, resetPeaks, run } from "./lib/proc.mjs";
import { skopeoCopy } from "./lib/skopeo.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sizeArg = process.argv.indexOf("--size-mib");
const sizeMiB = sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : 1024;

const work = mkdtempSync(join(tmpdir(), "registry-large-"));
process.on("exit", () => {
  killAllGroupsSync();
  if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

async function timed(label, registry, work) {
  const pids = groupPidsNamed(registry.pgid, "workerd");
  resetPeaks(pids);
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  const peaks = memoryMiB(pids).perPid.map((mib, i) => `${pids[i]}:${Math.round(mib)}`);
  return { label, seconds, peaks };
}

const registry = await startEdgeRegistry({ root, dir: join(work, "registry"), keep: Boolean(process.env.KEEP) });
try {
  console.log(`registry on ${registry.url}; building a ${sizeMiB} MiB layer...`);
  const image = await buildLayout(join(work, "source"), [sizeMiB * MiB], "big");
  const layer = image.layers[0];
  const remote = `docker://${registry.host}/bench/large:big`;
  const push = await timed("push", registry, () =>
    skopeoCopy(image.ref, remote, { authFile: registry.authFile, scratch: work }),
  );
  const target = join(work, "pulled");
  const pull = await timed("pull", registry, () =>
    skopeoCopy(remote, `oci:${target}:big`, { authFile: registry.authFile, scratch: work }),
  );
  const pulled = join(target, "blobs", "sha256", layer.digest.slice(7));
  if (!existsSync(pulled)) throw new Error("pulled layout lacks the layer");
  const { stdout } = await run("sha256sum", [pulled]);
  if (`sha256:${stdout.split(" ")[0]}` !== layer.digest) throw new Error("pulled layer digest differs");
  console.log(`layer ${layer.digest} (${(layer.size / MiB).toFixed(0)} MiB) round-tripped byte for byte`);
  for (const r of [push, pull]) {
    console.log(
      `${r.label}: ${r.seconds.toFixed(1)} s, ${(layer.size / MiB / r.seconds).toFixed(1)} MiB/s; peak RSS of workerd processes: ${r.peaks.join(", ")} MiB`,
    );
  }
} finally {
  await registry.stop();
  if (process.env.KEEP) console.log(`kept ${work}`);
}
