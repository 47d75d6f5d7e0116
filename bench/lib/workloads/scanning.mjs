// Workload 8: vulnerability scanning. One registry (its crons pushed out of the way), a 5-layer
// gzip image of about 200 MiB shaped like an application image (../scan-image.mjs: thousands
// of small files per layer, executables, a dpkg status, an npm tree, Python metadata, a Go
// binary with build info), and OSV advisories that find eight vulnerabilities in it. reps + 1
// copies with new layer digests (the scanner keeps inventories by layer digest) are pushed to
// new repositories with skopeo first (not timed). Copy 0 warms the runtime up: a fresh workerd's
// RSS climbs over its first reads of a few hundred MiB, the bench route's as much as the
// scanner's, then stays. Then, for each other copy, in alternating order:
//  - the ceiling: `POST /_bench/read-layer/<repository>/<digest>` for each layer, one after the
//    other: the same bytes read from R2, gunzipped and split into tar entries in the same
//    runtime, every body read and dropped, no inventory work (src/bench/routes.ts);
//  - the scan: StartImageScan, then DescribeImageScanFindings until COMPLETE; wall time from
//    before StartImageScan to the scan's imageScanCompletedAt (the registry's clock, the same
//    machine), the findings checked.
// For each: the CPU seconds of the registry's process group (workerd and its launcher) over the
// interval, and the workerd processes' peak memory (VmHWM, reset right before) against their
// RSS before. Two diagnostic rows after both: the ceiling with every body cancelled instead of
// read (as the scanner skips the files it does not want), and gunzip alone (no tar).
import { DescribeImageScanFindingsCommand, StartImageScanCommand } from "@aws-sdk/client-ecr";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { MiB } from "../images.mjs";
import { groupCpuSeconds, groupPids, groupPidsNamed, memoryMiB, resetPeaks, sleep } from "../proc.mjs";
import { buildScanBase, EXPECTED_FINDINGS, scanAdvisories, writeScanImage } from "../scan-image.mjs";
import { skopeoCopy } from "../skopeo.mjs";
import { fmt, fmtRatio, median, mibPerSecond, ratio, table } from "../stats.mjs";
import { adminCall, ecrClient } from "../registry.mjs";

const POLL_MS = 1000;
/** DescribeImageScanFindings calls timed once to know what the polls cost. */
const POLL_PROBES = 20;
const MEMORY_LIMIT_MIB = 64;
/** Warm-up ceiling passes: until one grows workerd's peak by less than WARM_MIB, at most WARM_PASSES. */
const WARM_MIB = 16;
const WARM_PASSES = 5;
const THROUGHPUT_GOAL = 0.7;

export const SCAN_KINDS = [
  { key: "ceiling", label: "ceiling: read each layer (`/_bench/read-layer`), every tar entry's body read" },
  { key: "cancel", label: "diagnostic: read each layer, every tar entry's body cancelled (skipped)" },
  { key: "none", label: "diagnostic: read each layer, gunzip only (no tar)" },
  { key: "scan", label: "scan: StartImageScan → COMPLETE" },
];

const ecr = (peer) => ecrClient(peer);

/** The ceiling: every layer read by the bench route, one after the other; each answer checked. */
async function readLayers(edge, repository, image, drain) {
  const started = performance.now();
  for (const layer of image.layers) {
    const response = await fetch(`${edge.url}/_bench/read-layer/${repository}/${layer.digest}?drain=${drain}`, {
      method: "POST",
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`read-layer ${layer.digest}: ${response.status} ${text}`);
    const answer = JSON.parse(text);
    if (
      answer.bytes !== layer.size ||
      answer.entries !== (drain === "none" ? 0 : layer.entries) ||
      answer.uncompressedBytes !== (drain === "none" ? layer.tarBytes : layer.contentBytes)
    )
      throw new Error(
        `read-layer ${layer.digest}?drain=${drain} answered ${text}; expected ${layer.size} bytes, ${layer.entries} entries, ${layer.contentBytes} bytes of files (${layer.tarBytes} of tar)`,
      );
  }
  return { seconds: (performance.now() - started) / 1000 };
}

async function describe(client, repositoryName, imageDigest) {
  return client.send(
    new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageDigest }, maxResults: 1000 }),
  );
}

/** StartImageScan, then polls until the scan ends; checks the findings. */
async function scanImage(client, repositoryName, image) {
  const imageDigest = image.manifest.digest;
  const startedAt = Date.now();
  const started = performance.now();
  await client.send(new StartImageScanCommand({ repositoryName, imageId: { imageDigest } }));
  let polls = 0;
  for (;;) {
    await sleep(POLL_MS);
    const answer = await describe(client, repositoryName, imageDigest);
    polls++;
    const status = answer.imageScanStatus?.status;
    if (status === "IN_PROGRESS") {
      if (performance.now() - started > 10 * 60_000)
        throw new Error(`the scan of ${repositoryName} took over 10 minutes`);
      continue;
    }
    if (status !== "COMPLETE")
      throw new Error(`the scan of ${repositoryName} ended ${status}: ${answer.imageScanStatus?.description}`);
    const findings = answer.imageScanFindings?.findings ?? [];
    const names = new Set(findings.map((f) => f.name));
    const missing = EXPECTED_FINDINGS.filter((name) => !names.has(name));
    if (missing.length > 0)
      throw new Error(
        `the scan of ${repositoryName} missed ${missing.join(", ")}; found ${[...names].join(", ") || "nothing"}`,
      );
    const completedAt = answer.imageScanFindings.imageScanCompletedAt.getTime();
    return {
      seconds: (completedAt - startedAt) / 1000,
      pollSeconds: (performance.now() - started) / 1000,
      polls,
      findings: findings.length,
      severityCounts: answer.imageScanFindings.findingSeverityCounts,
    };
  }
}

/** Runs `work` and measures the group's CPU and workerd's memory over it. */
async function measure(edge, work) {
  const pids = groupPids(edge.pgid);
  const workerd = groupPidsNamed(edge.pgid, "workerd");
  if (workerd.length === 0) throw new Error("no workerd process found in the registry's process group");
  resetPeaks(workerd);
  const rss = memoryMiB(workerd, "VmRSS").sumMiB;
  const cpu = groupCpuSeconds(edge.pgid, pids);
  const workerdCpu = groupCpuSeconds(edge.pgid, workerd);
  const detail = await work();
  return {
    ...detail,
    cpu: groupCpuSeconds(edge.pgid, pids) - cpu,
    workerdCpu: groupCpuSeconds(edge.pgid, workerd) - workerdCpu,
    rss,
    peak: memoryMiB(workerd, "VmHWM").sumMiB,
    processes: workerd.length,
  };
}

export async function runScanning(ctx) {
  const { opts, log, scratch } = ctx;
  const baseDir = join(scratch, "scan-base");
  const edge = await ctx.startEdge("scan", { REGISTRY_CRON_INTERVAL_SECONDS: "86400" });
  try {
    log(`w8 edge-registry on ${edge.url}`);
    const buildStarted = performance.now();
    const base = await buildScanBase(baseDir, opts.scanLayerMiB * MiB);
    const buildSeconds = (performance.now() - buildStarted) / 1000;
    log(
      `w8 built the layer bodies in ${buildSeconds.toFixed(1)} s: ${base.layers.map((l) => `${(l.bodyBytes / MiB).toFixed(1)} MiB (${l.files} files)`).join(", ")}`,
    );
    const advisories = scanAdvisories(base);
    const imported = await adminCall(edge, "POST", "/admin/advisories", { advisories });
    if (imported.imported !== advisories.length)
      throw new Error(`the advisory import answered ${JSON.stringify(imported).slice(0, 500)}`);
    const client = ecr(edge);

    // Every copy pushed first, so nothing but the measured work runs between measurements:
    // copy 0 warms the runtime up, copies 1..reps are measured.
    const copies = [];
    const pushes = [];
    for (let rep = 0; rep <= opts.reps; rep++) {
      const repository = `scan/app-r${rep}`;
      const image = await writeScanImage(join(scratch, `scan-image-r${rep}`), base, `rep ${rep} ${Date.now()}`, "v1");
      const push = await skopeoCopy(image.ref, `docker://${edge.host}/${repository}:v1`, {
        authFile: edge.authFile,
        scratch,
      });
      pushes.push(push.seconds);
      ctx.samplePeakDisk();
      rmSync(image.dir, { recursive: true, force: true });
      copies.push({ repository, image });
    }
    log(`w8 pushed ${copies.length} copies (median ${median(pushes).toFixed(1)} s each)`);

    // Warm-up: a fresh workerd's RSS climbs over its first reads of a few hundred MiB of layers
    // (the ceiling route's as much as the scanner's), then stays: ceiling passes over copy 0
    // until one grows the peak by less than WARM_MIB (at most WARM_PASSES), then one scan.
    const warmup = { rss: memoryMiB(groupPidsNamed(edge.pgid, "workerd"), "VmRSS").sumMiB, passes: [] };
    for (let pass = 0; pass < WARM_PASSES; pass++) {
      const sample = await measure(edge, () => readLayers(edge, copies[0].repository, copies[0].image, "read"));
      warmup.passes.push(sample.peak - sample.rss);
      if (sample.peak - sample.rss < WARM_MIB) break;
    }
    warmup.scan = await measure(edge, () => scanImage(client, copies[0].repository, copies[0].image));
    // What one DescribeImageScanFindings poll costs the registry, subtracted from the scans' CPU.
    const probe = await measure(edge, async () => {
      for (let i = 0; i < POLL_PROBES; i++)
        await describe(client, copies[0].repository, copies[0].image.manifest.digest);
      return {};
    });
    const pollCpu = probe.cpu / POLL_PROBES;
    log(
      `w8 warm-up: workerd RSS ${warmup.rss.toFixed(0)} MiB; ceiling passes grew it ${warmup.passes.map((g) => `+${g.toFixed(0)}`).join(", ")} MiB; a scan (${warmup.scan.seconds.toFixed(2)} s) +${(warmup.scan.peak - warmup.scan.rss).toFixed(0)} MiB; a poll costs ${(pollCpu * 1000).toFixed(1)} CPU-ms`,
    );

    const samples = { ceiling: [], cancel: [], none: [], scan: [] };
    const image = copies[1].image;
    let measuredRss = null;
    for (let rep = 1; rep <= opts.reps; rep++) {
      const { repository, image: copy } = copies[rep];
      const order = [...(rep % 2 === 1 ? ["ceiling", "scan"] : ["scan", "ceiling"]), "cancel", "none"];
      for (const kind of order) {
        const sample = await measure(edge, () =>
          kind === "scan"
            ? scanImage(client, repository, copy)
            : readLayers(edge, repository, copy, kind === "ceiling" ? "read" : kind),
        );
        measuredRss ??= sample.rss;
        samples[kind].push(sample);
        log(
          `w8 rep ${rep} ${kind}: ${sample.seconds.toFixed(2)} s, ${mibPerSecond(copy.layerBytes, sample.seconds).toFixed(1)} MiB/s, ${sample.cpu.toFixed(2)} CPU-s, workerd ${sample.rss.toFixed(0)} → ${sample.peak.toFixed(0)} MiB` +
            (kind === "scan" ? `, ${sample.findings} findings, ${sample.polls} polls` : ""),
        );
      }
    }
    for (const s of [...samples.scan, warmup.scan]) s.cpu = Math.max(0, s.cpu - s.polls * pollCpu);

    const summary = {};
    for (const [key, runs] of Object.entries(samples)) {
      summary[key] = {
        seconds: median(runs.map((r) => r.seconds)),
        cpu: median(runs.map((r) => r.cpu)),
        workerdCpu: median(runs.map((r) => r.workerdCpu)),
        growth: median(runs.map((r) => r.peak - r.rss)),
        maxGrowth: Math.max(...runs.map((r) => r.peak - r.rss)),
        peak: Math.max(...runs.map((r) => r.peak)),
        rss: runs.map((r) => r.rss),
        allSeconds: runs.map((r) => r.seconds),
      };
    }
    const layerBytes = image.layerBytes;
    return {
      reps: opts.reps,
      layers: image.layers.map((l, i) => ({
        size: l.size,
        tarBytes: l.tarBytes,
        entries: l.entries,
        files: base.layers[i].files,
        executables: base.layers[i].executables,
        packageFiles: base.layers[i].packageFiles,
      })),
      layerBytes,
      tarBytes: image.layers.reduce((a, l) => a + l.tarBytes, 0),
      buildSeconds,
      advisories: advisories.length,
      pushSeconds: median(pushes),
      warmup: {
        rss: warmup.rss,
        passes: warmup.passes,
        scanSeconds: warmup.scan.seconds,
        scanGrowth: warmup.scan.peak - warmup.scan.rss,
        scanPeak: warmup.scan.peak,
      },
      // Over the measured repetitions: RSS before the first measurement, highest peak of a scan.
      memory: { rss: measuredRss, scanPeak: Math.max(...samples.scan.map((r) => r.peak)) },
      pollCpu,
      polls: median(samples.scan.map((s) => s.polls)),
      findings: samples.scan[0].findings,
      severityCounts: samples.scan[0].severityCounts,
      processes: samples.scan[0].processes,
      summary,
    };
  } finally {
    await edge.stop();
    rmSync(baseDir, { recursive: true, force: true });
  }
}

const perMiB = (result, key) => result.summary[key].cpu / (result.layerBytes / MiB);
const rate = (result, key) => mibPerSecond(result.layerBytes, result.summary[key].seconds);

const signed = (x) => `${x >= 0 ? "+" : ""}${fmt(x, 0)}`;

export function scanningTargets(result) {
  const r = ratio(rate(result, "scan"), rate(result, "ceiling"));
  const growth = result.memory.scanPeak - result.memory.rss;
  const w = result.warmup;
  return [
    {
      name: `Scan throughput ≥ ${THROUGHPUT_GOAL}× the decompress-and-read ceiling (${result.layers.length}-layer image, ${fmt(result.layerBytes / MiB, 0)} MiB compressed)`,
      met: r >= THROUGHPUT_GOAL,
      detail: `scan ${fmt(rate(result, "scan"), 1)} MiB/s vs ceiling ${fmt(rate(result, "ceiling"), 1)} MiB/s = ${fmtRatio(r)}; CPU ${fmt(perMiB(result, "scan") * 1000, 1)} vs ${fmt(perMiB(result, "ceiling") * 1000, 1)} CPU-ms per MiB = ${fmtRatio(ratio(perMiB(result, "scan"), perMiB(result, "ceiling")))} the ceiling's`,
    },
    {
      name: `Memory growth during scans ≤ ${MEMORY_LIMIT_MIB} MiB (after the warm-up)`,
      met: growth <= MEMORY_LIMIT_MIB,
      detail:
        `workerd RSS before the first measured repetition ${fmt(result.memory.rss, 0)} MiB, highest peak (VmHWM) during any of the ${result.reps} scans ${fmt(result.memory.scanPeak, 0)} MiB: ${signed(growth)} MiB, the ceiling and diagnostic reads in between included; ` +
        `within one scan at most ${signed(result.summary.scan.maxGrowth)} MiB (ceiling: ${signed(result.summary.ceiling.maxGrowth)}). ` +
        `Before that, in the warm-up, the fresh registry's first reads grew it ${w.passes.map(signed).join(", ")} MiB (ceiling passes) and the first scan ${signed(w.scanGrowth)} MiB`,
    },
  ];
}

export function reportScanning(result) {
  const rows = SCAN_KINDS.map(({ key, label }) => {
    const s = result.summary[key];
    return [
      label,
      fmt(s.seconds),
      fmt(rate(result, key), 1),
      fmtRatio(ratio(rate(result, key), rate(result, "ceiling"))),
      fmt(s.cpu),
      fmt(perMiB(result, key) * 1000, 1),
      `${signed(s.growth)} (at most ${signed(s.maxGrowth)})`,
      s.allSeconds.map((x) => x.toFixed(2)).join(", "),
    ];
  });
  const w = result.warmup;
  const layers = result.layers
    .map(
      (l) =>
        `${fmt(l.size / MiB, 1)} MiB (${fmt(l.tarBytes / MiB, 0)} MiB tar, ${l.files.toLocaleString("en-US")} files, ${l.executables} executables, ${l.packageFiles} package files)`,
    )
    .join("; ");
  const counts = Object.entries(result.severityCounts ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    `The image: ${result.layers.length} gzip layers, ${fmt(result.layerBytes / MiB, 0)} MiB compressed, ${fmt(result.tarBytes / MiB, 0)} MiB of tar: ${layers}. ` +
      `Built in ${fmt(result.buildSeconds, 1)} s (bench/lib/scan-image.mjs); ${result.reps + 1} copies with new layer digests each (the scanner keeps inventories by layer digest) pushed to new repositories with skopeo before any measurement (median ${fmt(result.pushSeconds, 1)} s, not timed). ` +
      `${result.advisories} OSV advisories imported; every scan found the ${EXPECTED_FINDINGS.length} expected vulnerabilities (${result.findings} findings: ${counts}).`,
    "",
    `Warm-up on copy 0 (not in the table): the fresh registry's workerd RSS was ${fmt(w.rss, 0)} MiB after the pushes; ${w.passes.length} ceiling pass(es), until one grew its peak by less than ${WARM_MIB} MiB, grew it ${w.passes.map(signed).join(", ")} MiB; then the first scan took ${fmt(w.scanSeconds)} s and grew it ${signed(w.scanGrowth)} MiB.`,
    "",
    table(
      [
        "measurement (copies 1…" + result.reps + ")",
        "seconds",
        "MiB/s (compressed)",
        "÷ ceiling",
        "CPU-s (registry group)",
        "CPU-ms per MiB",
        "workerd peak − RSS before, MiB",
        "all runs, s",
      ],
      rows,
    ),
    "",
    `Medians of ${result.reps} repetition(s), the ceiling and the scan in alternating order, the diagnostic rows after both. Seconds: the ceiling's from the first read request to the last answer; the scan's from before StartImageScan to the scan's imageScanCompletedAt (queue delivery included). ` +
      `CPU: user + system time of every process in the registry's process group over the interval (workerd's own: ceiling ${fmt(result.summary.ceiling.workerdCpu)} s, scan ${fmt(result.summary.scan.workerdCpu)} s); the scan's minus its DescribeImageScanFindings polls (every ${POLL_MS} ms, median ${result.polls} per scan, ${fmt(result.pollCpu * 1000, 1)} CPU-ms each, measured in the run). ` +
      `Memory: VmHWM of the ${result.processes} workerd process(es) after \`echo 5 > /proc/<pid>/clear_refs\` right before each measurement, minus the RSS at that moment.`,
    "",
    ...scanningTargets(result).map((t) => `- ${t.name}: **${t.met ? "MET" : "MISSED"}** (${t.detail})`),
  ].join("\n");
}
