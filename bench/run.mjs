#!/usr/bin/env node
// The benchmark suite: measures this registry side by side with the CNCF distribution registry
// and nginx, started here on 127.0.0.1 with fresh storage, and writes bench/RESULTS.md.
//   npm run bench                 full run (about 25 minutes on 2 cores)
//   npm run bench -- --quick      small sizes, one repetition
//   npm run bench -- --help       sizes, repetitions, --only
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePackages } from "./lib/deps.mjs";
import { buildLayout, MiB } from "./lib/images.mjs";
import { parseOptions } from "./lib/options.mjs";
import { startDistribution, startEdgeRegistry, startNginx } from "./lib/peers.mjs";
import { benchWorkDir, cpuSnapshot, otherCpu, sleep } from "./lib/proc.mjs";
import { machineInfo, renderResults } from "./lib/report.mjs";
import { cacheIsolation } from "./lib/skopeo.mjs";
import { runBlobGet } from "./lib/workloads/blob-get.mjs";
import { runCost } from "./lib/workloads/cost.mjs";
import { runGeography } from "./lib/workloads/geography.mjs";
import { runManifestLoad } from "./lib/workloads/manifest-load.mjs";
import { runMemory } from "./lib/workloads/memory.mjs";
import { runReplication } from "./lib/workloads/replication.mjs";
import { runScanning } from "./lib/workloads/scanning.mjs";
import { runSkopeoCopy } from "./lib/workloads/skopeo-copy.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const opts = parseOptions(process.argv.slice(2));
const startedAt = new Date();
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const log = (message) => {
  const s = Math.round(elapsed());
  console.error(`[${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}] ${message}`);
};

ensurePackages(log);

const { work, cleanupSync } = benchWorkDir("edge-bench-", { keep: opts.keep });
const scratch = join(work, "scratch");
mkdirSync(scratch);

// Disk: the images, the pulled copies and the servers' storage all land under `work`.
const need =
  opts.bigBytes * (4 + opts.reps) +
  opts.manyBytes * opts.manyLayers * (2 + 2 * opts.reps) +
  opts.memLargeMiB * MiB * (2 + 2 * opts.reps) +
  opts.replMiB * MiB * (2 + 4 * opts.reps) +
  (opts.only.includes(7) ? 5 * MiB * 6 : 0) + // workload 7: its image, the home and two replica buckets, distribution
  (opts.only.includes(8) ? 5 * opts.scanLayerMiB * MiB * (3 + opts.reps) : 0) + // workload 8: layer bodies, a copy, reps + 1 pushed
  512 * MiB;
const free = (() => {
  const s = statfsSync(work);
  return s.bavail * s.bsize;
})();
if (free < need) {
  console.error(
    `Not enough disk under ${tmpdir()}: about ${(need / 2 ** 30).toFixed(1)} GiB needed, ${(free / 2 ** 30).toFixed(1)} GiB free. Use smaller sizes (see --help).`,
  );
  process.exit(2);
}

function diskUse(path) {
  const r = spawnSync("du", ["-sb", path], { encoding: "utf8", timeout: 60_000 });
  return Number(r.stdout?.split("\t")[0] ?? NaN);
}

const peers = {};
const phases = {};
const notes = [];
const results = {};
let peakDisk = 0;
const ctx = {
  root,
  opts,
  log,
  scratch,
  peers,
  images: {},
  state: { bigRepo: {} },
  diskUse,
  samplePeakDisk: () => (peakDisk = Math.max(peakDisk, diskUse(work))),
  startEdge: (name, env) => startEdgeRegistry({ root, dir: join(work, name), keep: opts.keep, env }),
};

/** Waits (at most `maxSeconds`) for other processes to leave the CPUs mostly idle. */
async function waitQuiet(maxSeconds) {
  const deadline = performance.now() + maxSeconds * 1000;
  let share = 1;
  while (performance.now() < deadline) {
    const before = cpuSnapshot();
    await sleep(3000);
    share = otherCpu(before, cpuSnapshot()).otherShare;
    if (share < 0.1) return share;
    log(`other processes are using ${(share * 100).toFixed(0)} % of the CPUs; waiting for them to settle`);
  }
  return share;
}

async function phase(name, fn) {
  const before = cpuSnapshot();
  log(`${name}...`);
  try {
    return await fn();
  } finally {
    const other = otherCpu(before, cpuSnapshot());
    phases[name] = other;
    peakDisk = Math.max(peakDisk, diskUse(work));
  }
}

let exitCode = 0;
try {
  log(`work dir ${work}; skopeo blob-info cache isolation: ${cacheIsolation()}`);
  const busyAtStart = await waitQuiet(opts.quick ? 3 : 60);
  if (busyAtStart >= 0.1)
    notes.push(
      `Other processes were using ${(busyAtStart * 100).toFixed(0)} % of the CPUs when the run started (the suite waited up to ${opts.quick ? 3 : 60} s for them to settle).`,
    );
  if (cacheIsolation() === "none")
    notes.push(
      "skopeo's blob-info cache could not be isolated: repeated pushes may have mounted blobs instead of uploading (see workload 1's note).",
    );
  const need1to3 = opts.only.some((w) => [1, 2, 3].includes(w));
  if (need1to3) {
    await phase("build images", async () => {
      ctx.images.big = await buildLayout(join(work, "images", "big"), [opts.bigBytes], "big");
      ctx.images.big.key = "big";
      ctx.images.big.label = `1 × ${opts.bigMiB} MiB layer`;
      ctx.images.many = await buildLayout(
        join(work, "images", "many"),
        Array(opts.manyLayers).fill(opts.manyBytes),
        "many",
      );
      ctx.images.many.key = "many";
      ctx.images.many.label = `${opts.manyLayers} × ${opts.manyMiB} MiB layers`;
    });
  }
  if (opts.only.some((w) => [1, 2, 3, 4].includes(w))) {
    await phase("start servers", async () => {
      peers.edge = await ctx.startEdge("edge");
      log(`edge-registry on ${peers.edge.url}`);
      peers.distribution = await startDistribution({ dir: join(work, "distribution"), keep: opts.keep });
      log(`distribution on ${peers.distribution.url}`);
      if (ctx.images.big) {
        peers.nginx = await startNginx({
          dir: join(work, "nginx"),
          file: ctx.images.big.layers[0].path,
          keep: opts.keep,
        });
        log(`nginx on ${peers.nginx.url}`);
      }
    });
    if (opts.only.includes(1)) results.skopeo = await phase("1. skopeo push/pull", () => runSkopeoCopy(ctx));
    if (opts.only.includes(2)) results.blobGet = await phase("2. blob GET", () => runBlobGet(ctx));
    if (opts.only.includes(3)) results.manifestLoad = await phase("3. manifest load", () => runManifestLoad(ctx));
    if (opts.only.includes(4)) results.cost = await phase("4. cost", () => runCost(ctx));
    const edgeState = diskUse(peers.edge.stateDir);
    const distState = diskUse(join(peers.distribution.dir, "data"));
    notes.push(
      `Storage after workloads ${opts.only.filter((w) => w <= 4).join(", ")}: edge-registry state ${(edgeState / MiB).toFixed(0)} MiB, distribution data ${(distState / MiB).toFixed(0)} MiB.`,
    );
    await phase("stop servers", async () => {
      for (const [name, p] of Object.entries(peers)) {
        await p.stop();
        delete peers[name];
      }
    });
    rmSync(join(work, "images"), { recursive: true, force: true });
  }
  if (opts.only.includes(5)) results.memory = await phase("5. memory", () => runMemory(ctx));
  if (opts.only.includes(6)) results.replication = await phase("6. replication", () => runReplication(ctx));
  if (opts.only.includes(7)) results.geography = await phase("7. pulls near users", () => runGeography(ctx));
  if (opts.only.includes(8)) results.scanning = await phase("8. vulnerability scanning", () => runScanning(ctx));
  const busy = Object.entries(phases).filter(([, p]) => p.otherShare > 0.1 && p.seconds > 5);
  if (busy.length) {
    notes.push(
      `Processes outside this suite (other work on the machine) took CPU during ${busy.map(([name, p]) => `"${name}" (${(p.otherShare * 100).toFixed(0)} %)`).join(", ")}: the numbers of those phases are lower than a quiet machine would give.`,
    );
  }
  notes.push(
    `Largest disk use of the run's temp dir (sampled after each phase and before each memory-workload registry is removed): ${(peakDisk / 2 ** 30).toFixed(2)} GiB.`,
  );
} catch (error) {
  exitCode = 1;
  console.error(error?.stack ?? error);
  notes.push(`The run failed: ${String(error?.message ?? error).split("\n")[0]}`);
} finally {
  for (const p of Object.values(peers)) await p.stop().catch(() => {});
}

const markdown = renderResults({
  results,
  machine: machineInfo(root),
  opts,
  startedAt,
  durations: { total: elapsed(), phases },
  notes,
});
// A failed run never replaces the results of a complete one.
const out = resolve(
  root,
  exitCode !== 0
    ? "bench/work/RESULTS-failed.md"
    : (opts.out ?? (opts.quick ? "bench/work/RESULTS-quick.md" : "bench/RESULTS.md")),
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, markdown + "\n");
console.log(markdown);
log(`${exitCode === 0 ? "done" : "FAILED"}; results in ${out}`);
cleanupSync();
process.exit(exitCode);
