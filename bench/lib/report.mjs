// The machine description, the targets checklist and the assembled RESULTS.md.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { reportBlobGet } from "./workloads/blob-get.mjs";
import { costTargets, reportCost } from "./workloads/cost.mjs";
import { geographyTargets, reportGeography } from "./workloads/geography.mjs";
import { reportManifestLoad } from "./workloads/manifest-load.mjs";
import { memoryTarget, reportMemory } from "./workloads/memory.mjs";
import { replicationTargets, reportReplication } from "./workloads/replication.mjs";
import { reportScanning, scanningTargets } from "./workloads/scanning.mjs";
import { reportSkopeoCopy } from "./workloads/skopeo-copy.mjs";
import { fmt, fmtRatio, ms, ratio } from "./stats.mjs";

function firstLine(file, args) {
  const r = spawnSync(file, args, { encoding: "utf8", timeout: 10_000 });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0] || "n/a";
}

function packageVersion(root, name) {
  try {
    return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "n/a";
  }
}

export function machineInfo(root) {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ?? "n/a";
  const memKiB = Number(/MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  let distro = "n/a";
  try {
    distro = /PRETTY_NAME="([^"]*)"/.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? distro;
  } catch {}
  const git = (args) => spawnSync("git", args, { cwd: root, encoding: "utf8", timeout: 10_000 }).stdout?.trim() ?? "";
  const changed = git(["status", "--porcelain", "--", "src", "migrations", "wrangler.toml", "scripts"])
    .split("\n")
    .filter(Boolean).length;
  return [
    [
      "registry code",
      `commit ${git(["rev-parse", "--short", "HEAD"]) || "n/a"}${changed ? ` plus uncommitted changes in ${changed} file(s) under src/, migrations/, scripts/ or wrangler.toml at the time of the run` : ""}`,
    ],
    ["CPU", `${model}, ${os.cpus().length} cores`],
    ["memory", `${(memKiB / 1024 / 1024).toFixed(1)} GiB`],
    ["OS / kernel", `${distro} / Linux ${os.release()}`],
    ["node", process.version],
    ["skopeo", firstLine("skopeo", ["--version"])],
    ["docker-registry (distribution)", firstLine("/usr/bin/docker-registry", ["--version"])],
    ["nginx", firstLine("/usr/sbin/nginx", ["-v"])],
    ["curl", firstLine("curl", ["--version"])],
    [
      "wrangler / miniflare / workerd",
      `${packageVersion(root, "wrangler")} / ${packageVersion(root, "miniflare")} / ${packageVersion(root, "workerd")}`,
    ],
    ["autocannon", packageVersion(root, "autocannon")],
  ];
}

const mark = (met) => (met ? "MET" : "MISSED");

/** The checklist, from whichever workloads ran. */
export function targets(results) {
  const list = [];
  const w1 = results.skopeo;
  const w2 = results.blobGet;
  if (w1 && w2) {
    for (const key of ["big", "many"]) {
      const push = w1.summary[key]["edge-registry"].push.mibs;
      const r = ratio(push, w2.summary.rawPut.mibs);
      const label = w1.images.find((i) => i.key === key).label;
      list.push({
        name: `Push throughput ≥ 0.8× the raw R2 put (${label})`,
        met: r >= 0.8,
        detail: `skopeo push ${fmt(push, 1)} MiB/s vs raw PUT ${fmt(w2.summary.rawPut.mibs, 1)} MiB/s = ${fmtRatio(r)}`,
      });
    }
  }
  if (w2) {
    const r = ratio(w2.summary.edge.mibs, w2.summary.rawGet.mibs);
    list.push({
      name: "Blob GET ≥ 0.9× the raw R2 get",
      met: r >= 0.9,
      detail: `${fmt(w2.summary.edge.mibs, 1)} MiB/s vs raw GET ${fmt(w2.summary.rawGet.mibs, 1)} MiB/s = ${fmtRatio(r)}`,
    });
  }
  if (w1) {
    for (const image of w1.images) {
      const e = w1.summary[image.key]["edge-registry"].pull.mibs;
      const d = w1.summary[image.key].distribution.pull.mibs;
      list.push({
        name: `skopeo pull throughput ≥ distribution's (${image.label})`,
        met: e >= d,
        detail: `${fmt(e, 1)} vs ${fmt(d, 1)} MiB/s = ${fmtRatio(ratio(e, d))}`,
      });
    }
  }
  const w3 = results.manifestLoad;
  if (w3) {
    const ceiling = w3.summary["constant|16|edge-registry"];
    const oneQuery = w3.summary["oneQuery|16|edge-registry"];
    for (const key of ["tag", "digest"]) {
      const e = w3.summary[`${key}|16|edge-registry`];
      const d = w3.summary[`${key}|16|distribution`];
      const met = e.rps >= d.rps;
      let detail = `${fmt(e.rps, 0)} vs ${fmt(d.rps, 0)} req/s = ${fmtRatio(ratio(e.rps, d.rps))}`;
      if (!met) {
        detail += `; this runtime's own ceiling (constant route, 16 connections) is ${fmt(ceiling.rps, 0)} req/s, so the manifest GET runs at ${fmtRatio(ratio(e.rps, ceiling.rps))} of it`;
        detail += `; a route that makes one trivial D1 query and nothing else reaches ${fmt(oneQuery.rps, 0)} req/s (the manifest GET runs at ${fmtRatio(ratio(e.rps, oneQuery.rps))} of that)`;
        detail +=
          oneQuery.rps < d.rps
            ? ": the local D1 simulation's round trip alone keeps any route that queries D1 below distribution's rate, and a manifest GET must make that one query"
            : ", above distribution's rate: the gap is the registry's own work";
      }
      list.push({ name: `Manifest GET by ${key} req/s ≥ distribution's at 16 connections`, met, detail });
      list.push({
        name: `Manifest GET by ${key} p99 < 5× p50 at 16 connections`,
        met: e.p99 < 5 * e.p50,
        detail: `p50 ${ms(e.p50)} ms, p99 ${ms(e.p99)} ms = ${fmtRatio(ratio(e.p99, e.p50))}`,
      });
    }
  }
  if (results.cost) list.push(...costTargets(results.cost));
  if (results.memory) list.push(memoryTarget(results.memory));
  if (results.replication) list.push(...replicationTargets(results.replication));
  if (results.geography) list.push(...geographyTargets(results.geography));
  if (results.scanning) list.push(...scanningTargets(results.scanning));
  return list;
}

export function renderResults({ results, machine, opts, startedAt, durations, notes }) {
  const out = [];
  out.push("# Benchmark results", "");
  out.push(
    `Generated by \`npm run bench${opts.quick ? " -- --quick" : ""}\` (bench/run.mjs) on ${startedAt.toISOString()}; the whole run took ${fmt(durations.total / 60, 1)} min.` +
      ` Every number below was measured in that run; each workload ran ${opts.reps} time(s) and the tables give medians.`,
    "",
  );
  if (opts.quick)
    out.push("**Quick mode: small sizes and one repetition, for trying the suite out; not a measurement.**", "");
  out.push("## Machine", "", "| | |", "|---|---|", ...machine.map(([k, v]) => `| ${k} | ${v} |`), "");
  out.push(
    "## Setup",
    "",
    "- **edge-registry**: this registry, started with `node scripts/start.mjs` (wrangler bundle, Miniflare/workerd behind the TLS-refusing TCP front), fresh `REGISTRY_STATE_DIR`, generated admin key and signing key, `REGISTRY_BENCH_MODE=1`, authentication on. skopeo uses an auth.json with the admin's Basic credentials; curl and autocannon send a bearer token from `GET /token`.",
    "- **distribution**: Debian's `docker-registry` (`serve config.yml`), filesystem storage in a temp dir, no auth, deletes enabled, logging as shipped (info level and access log, to a file; this registry logs every request to its file too).",
    "- **nginx**: Debian's nginx serving the same layer file as a static file (`sendfile on`), as the ceiling for HTTP serving on this machine.",
    "- All on 127.0.0.1, each with fresh storage, stopped at the end. Clients (skopeo, curl, autocannon in the suite's Node process) share the same 2 cores with the servers.",
    "- Each skopeo call gets an empty blob-info cache (a private mount namespace over /var/lib/containers/cache when root), so every push really uploads; a fresh repository name per repetition.",
    "",
  );
  const target = targets(results);
  out.push("## Targets", "");
  if (target.length === 0) out.push("No targets apply to the workloads that ran.");
  for (const t of target) out.push(`- [${t.met ? "x" : " "}] **${mark(t.met)}** ${t.name}: ${t.detail}`);
  out.push("");
  const sections = [
    [
      "skopeo",
      "1. skopeo push and pull",
      reportSkopeoCopy,
      "Seconds are wall-clock per `skopeo copy` (process start to exit); MiB/s counts the layer bytes.",
    ],
    [
      "blobGet",
      "2. Blob GET throughput (curl)",
      reportBlobGet,
      "`curl -s -o /dev/null -H 'Accept-Encoding: gzip'`, `%{time_total}`; every response was checked to be the uncompressed bytes with their Content-Length, and once per target by sha256.",
    ],
    ["manifestLoad", "3. Manifest GET and blob HEAD under load (autocannon)", reportManifestLoad, null],
    ["cost", "4. Cost per operation (bench counters)", reportCost, null],
    ["memory", "5. Peak memory of the runtime", reportMemory, null],
    [
      "replication",
      "6. Replication to another registry",
      reportReplication,
      "Two registries started with `npm start` as accounts 111111111111 (A) and 222222222222 (B), B's registry policy granting A ecr:ReplicateImage and ecr:CreateRepository. Each repetition pushes the image to a new repository of A, then times A's replication (`POST /admin/jobs/run?job=replication` until B serves the manifest) and `skopeo copy` of the same image from A to a new repository of B. MiB/s counts the layer bytes.",
    ],
    ["geography", "7. Pulls near users (simulated geography)", reportGeography, null],
    ["scanning", "8. Vulnerability scanning", reportScanning, null],
  ];
  for (const [key, title, render, note] of sections) {
    if (!results[key]) continue;
    out.push(`## ${title}`, "");
    if (key === "manifestLoad") {
      out.push(
        `${results[key].seconds} s per run, keep-alive connections; req/s counts 2xx responses; latencies are per response at full resolution (not autocannon's whole-millisecond histogram). Medians over the runs.`,
        "",
      );
    }
    if (note) out.push(note, "");
    out.push(render(results[key]), "");
  }
  out.push(
    "## Where the time went",
    "",
    "| phase | seconds | CPU used by other processes on the machine meanwhile | CPU stolen by the hypervisor |",
    "|---|---|---|---|",
    ...Object.entries(durations.phases).map(
      ([k, v]) =>
        `| ${k} | ${fmt(v.seconds, 1)} | ${fmt(v.otherShare * 100, 0)} % (${fmt(v.otherCpuSeconds, 1)} CPU-s) | ${fmt(v.stealShare * 100, 0)} % |`,
    ),
    "",
  );
  if (notes.length) out.push("## Notes", "", ...notes.map((n) => `- ${n}`), "");
  return out.join("\n");
}
