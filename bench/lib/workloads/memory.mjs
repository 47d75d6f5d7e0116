// Workload 5: peak memory (VmHWM, reset with clear_refs before each operation) of this
// registry's workerd processes while a large and a small layer go in and out, chunked (skopeo:
// one streaming PATCH) and monolithic (curl -T POST ?digest=, curl GET). Each layer size runs on
// a registry instance of its own, started fresh and removed afterwards; a second fresh instance
// per size does the same bytes through the bench-only raw R2 routes, as the runtime's control.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pullHeaders } from "../auth.mjs";
import { curlGet, curlUpload } from "../curl.mjs";
import { buildLayout, MiB } from "../images.mjs";
import { groupPidsNamed, memoryMiB, resetPeaks } from "../proc.mjs";
import { monolithicUpload } from "../registry.mjs";
import { skopeoCopy } from "../skopeo.mjs";
import { fmt, median, mibPerSecond, table } from "../stats.mjs";

const MODES = [
  { key: "skopeoPush", label: "push, chunked (skopeo, one streaming PATCH)" },
  { key: "skopeoPull", label: "pull (skopeo)" },
  { key: "monoPush", label: "push, monolithic (curl -T POST ?digest=)" },
  { key: "curlGet", label: "blob GET (curl)" },
];
const CONTROLS = [
  { key: "rawPut", label: "control: raw R2 PUT `/_bench/raw` (curl -T), fresh instance" },
  { key: "rawGet", label: "control: raw R2 GET `/_bench/raw` (curl)" },
];

export async function runMemory(ctx) {
  const { opts, log, scratch } = ctx;
  const sizes = [
    { key: "small", mib: opts.memSmallMiB },
    { key: "large", mib: opts.memLargeMiB },
  ];
  const samples = {}; // samples[size|mode] = [{sum, max, base, seconds, processes}]
  const stateBytes = {};

  /** Runs `body(edge, measure)` on a fresh registry instance, then removes it. */
  async function onFreshRegistry(name, body) {
    const edge = await ctx.startEdge(name);
    try {
      const workerd = () => groupPidsNamed(edge.pgid, "workerd");
      if (workerd().length === 0) throw new Error("no workerd process found in the registry's process group");
      const measure = async (key, work) => {
        const pids = workerd();
        resetPeaks(pids);
        const base = memoryMiB(pids, "VmRSS");
        const start = performance.now();
        await work();
        const seconds = (performance.now() - start) / 1000;
        const peak = memoryMiB(pids, "VmHWM");
        const sample = { sum: peak.sumMiB, max: peak.maxMiB, base: base.sumMiB, seconds, processes: pids.length };
        (samples[key] ??= []).push(sample);
        return sample;
      };
      await body(edge, measure);
      ctx.samplePeakDisk();
      return ctx.diskUse(edge.stateDir);
    } finally {
      await edge.stop();
    }
  }

  for (const size of sizes) {
    const image = await buildLayout(join(scratch, `mem-${size.key}`), [size.mib * MiB], "mem");
    const layer = image.layers[0];
    log(`w5 built the ${size.mib} MiB layer`);
    try {
      stateBytes[size.key] = await onFreshRegistry(`edge-memory-${size.key}`, async (edge, measure) => {
        for (let rep = 1; rep <= opts.reps; rep++) {
          const remote = `docker://${edge.host}/mem/chunked-r${rep}:mem`;
          const monoRepo = `mem/mono-r${rep}`;
          const pullDir = join(scratch, `mem-pull-${size.key}`);
          await measure(`${size.key}|skopeoPush`, () =>
            skopeoCopy(image.ref, remote, { authFile: edge.authFile, scratch }),
          );
          await measure(`${size.key}|skopeoPull`, () =>
            skopeoCopy(remote, `oci:${pullDir}:mem`, { authFile: edge.authFile, scratch }),
          );
          rmSync(pullDir, { recursive: true, force: true });
          await measure(`${size.key}|monoPush`, () => monolithicUpload(edge, monoRepo, layer, scratch));
          const headers = await pullHeaders(edge, monoRepo);
          await measure(`${size.key}|curlGet`, () =>
            curlGet(`${edge.url}/v2/${monoRepo}/blobs/${layer.digest}`, { headers, expectSize: layer.size, scratch }),
          );
          log(`w5 rep ${rep} ${size.mib} MiB: ${describe(samples, size.key, MODES)}`);
        }
      });
      await onFreshRegistry(`edge-memory-raw-${size.key}`, async (edge, measure) => {
        for (let rep = 1; rep <= opts.reps; rep++) {
          const url = `${edge.url}/_bench/raw/mem-r${rep}`;
          await measure(`${size.key}|rawPut`, () =>
            curlUpload(url, layer.path, { method: "PUT", expectStatus: [201], scratch }),
          );
          await measure(`${size.key}|rawGet`, () => curlGet(url, { expectSize: layer.size, scratch }));
          log(`w5 rep ${rep} ${size.mib} MiB raw: ${describe(samples, size.key, CONTROLS)}`);
        }
      });
    } finally {
      rmSync(image.dir, { recursive: true, force: true });
    }
    size.layerBytes = layer.size;
  }
  const summary = {};
  for (const [key, runs] of Object.entries(samples)) {
    summary[key] = {
      sum: median(runs.map((r) => r.sum)),
      max: median(runs.map((r) => r.max)),
      growth: median(runs.map((r) => r.sum - r.base)),
      seconds: median(runs.map((r) => r.seconds)),
      processes: runs[0].processes,
      first: runs[0],
      allSum: runs.map((r) => r.sum),
    };
  }
  return { summary, sizes, stateBytes, reps: opts.reps };
}

function describe(samples, sizeKey, modes) {
  return modes
    .map((m) => {
      const s = samples[`${sizeKey}|${m.key}`].at(-1);
      return `${m.key} ${s.base.toFixed(0)}→${s.sum.toFixed(0)} MiB (${s.seconds.toFixed(1)} s)`;
    })
    .join(", ");
}

export function memoryTarget(result) {
  const deltas = MODES.map((m) => ({
    mode: m,
    delta: result.summary[`large|${m.key}`].sum - result.summary[`small|${m.key}`].sum,
  }));
  const worst = deltas.reduce((a, b) => (b.delta > a.delta ? b : a));
  return {
    name: `Peak memory with a ${result.sizes[1].mib} MiB layer within 64 MiB of the peak with a ${result.sizes[0].mib} MiB layer`,
    met: deltas.every((d) => d.delta <= 64),
    detail:
      deltas.map((d) => `${d.mode.key} ${d.delta >= 0 ? "+" : ""}${d.delta.toFixed(0)} MiB`).join(", ") +
      `; largest ${worst.mode.key}. Control, raw R2 PUT of the same bytes: ${fmtDelta(result, "rawPut")} MiB`,
  };
}

function fmtDelta(result, key) {
  const d = result.summary[`large|${key}`].sum - result.summary[`small|${key}`].sum;
  return `${d >= 0 ? "+" : ""}${d.toFixed(0)}`;
}

export function reportMemory(result) {
  const [s, l] = result.sizes;
  const rows = [];
  for (const mode of [...MODES, ...CONTROLS]) {
    const small = result.summary[`small|${mode.key}`];
    const large = result.summary[`large|${mode.key}`];
    rows.push([
      mode.label,
      `${fmt(small.sum, 0)} (+${fmt(small.growth, 0)})`,
      `${fmt(large.sum, 0)} (+${fmt(large.growth, 0)})`,
      `${large.sum - small.sum >= 0 ? "+" : ""}${fmt(large.sum - small.sum, 0)}`,
      `${fmt(small.first.base, 0)} → ${fmt(small.first.sum, 0)} / ${fmt(large.first.base, 0)} → ${fmt(large.first.sum, 0)}`,
      `${fmt(small.seconds)} / ${fmt(large.seconds)}`,
      `${fmt(mibPerSecond(s.layerBytes, small.seconds), 0)} / ${fmt(mibPerSecond(l.layerBytes, large.seconds), 0)}`,
      `${small.allSum.map((x) => x.toFixed(0)).join(", ")} / ${large.allSum.map((x) => x.toFixed(0)).join(", ")}`,
    ]);
  }
  const target = memoryTarget(result);
  return [
    table(
      [
        "operation",
        `peak, ${s.mib} MiB layer, MiB (growth in the op)`,
        `peak, ${l.mib} MiB layer, MiB (growth)`,
        "difference of peaks, MiB",
        `first run: RSS before → peak (${s.mib} / ${l.mib} MiB)`,
        `seconds (${s.mib} / ${l.mib} MiB)`,
        "MiB/s",
        `all peaks (${s.mib} / ${l.mib} MiB)`,
      ],
      rows,
    ),
    "",
    `Peak = VmHWM summed over the ${result.summary["large|skopeoPush"].processes} workerd process(es) in the registry's process group, after \`echo 5 > /proc/<pid>/clear_refs\` right before each operation, so it starts from the RSS the process holds at that moment; growth = peak minus that RSS; medians over ${result.reps} run(s). ` +
      `Each layer size ran on a fresh registry of its own, repeating push (skopeo), pull (skopeo), monolithic push (curl), GET (curl); the control rows ran on another fresh instance per size (raw PUT then raw GET, repeated). ` +
      `Registry storage afterwards: ${s.mib} MiB layer: ${fmt(result.stateBytes.small / MiB, 0)} MiB, ${l.mib} MiB layer: ${fmt(result.stateBytes.large / MiB, 0)} MiB.`,
    "",
    `- ${target.name}: **${target.met ? "MET" : "MISSED"}** (${target.detail})`,
  ].join("\n");
}
