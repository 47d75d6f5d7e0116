#!/usr/bin/env node
// The pull-through cache against its upstream, in one run: the CNCF distribution registry
// (Debian's docker-registry) is the upstream and holds the images; this registry (started as
// `npm start` does) gets a cache rule pointing at it. Per repetition and image, skopeo pulls
// (a) straight from distribution, (b) through the cache for the first time (a miss: the
// registry streams each blob from the upstream into R2 while serving it) and (c) through the
// cache again (a hit: served from R2, no upstream blob GET). Every repetition pushes freshly
// built images (new random layers) and uses a new rule prefix, so (b) really downloads: a
// digest already stored for another repository would be linked after a HEAD, not fetched.
//   npm exec -- node bench/pull-through.mjs [--layers N --layer-mib M --big-mib B --reps R]
// Defaults: one image of 1 × 256 MiB layer, one of 10 × 4 MiB layers, 3 repetitions.
// KEEP=1 keeps the temp dir (images, server state, logs).
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CreatePullThroughCacheRuleCommand, ECRClient } from "@aws-sdk/client-ecr";
import { buildLayout, MiB } from "./lib/images.mjs";
import { startDistribution, startEdgeRegistry } from "./lib/peers.mjs";
import {
  benchWorkDir,
  cpuSnapshot,
  groupPids,
  groupPidsNamed,
  memoryMiB,
  otherCpu,
  resetPeaks,
  run,
  sleep,
} from "./lib/proc.mjs";
import { curlUpload } from "./lib/curl.mjs";
import { cacheIsolation, skopeoCopy } from "./lib/skopeo.mjs";
import { fmt, fmtRatio, median, table } from "./lib/stats.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!(n >= 0) || !Number.isFinite(n)) throw new Error(`${name} needs a number`);
  return n;
}
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(
    "npm exec -- node bench/pull-through.mjs [--layers N (10)] [--layer-mib M (4)] [--big-mib B (256; 0: no one-layer image)] [--reps R (3)]",
  );
  process.exit(0);
}
const opts = {
  layers: option("--layers", 10),
  layerMiB: option("--layer-mib", 4),
  bigMiB: option("--big-mib", 256),
  reps: Math.max(1, Math.round(option("--reps", 3))),
};
const images = [];
if (opts.bigMiB > 0)
  images.push({ key: "big", label: `1 × ${opts.bigMiB} MiB layer`, sizes: [Math.round(opts.bigMiB * MiB)] });
if (opts.layers > 0 && opts.layerMiB > 0) {
  images.push({
    key: "many",
    label: `${opts.layers} × ${opts.layerMiB} MiB layers`,
    sizes: Array(opts.layers).fill(Math.round(opts.layerMiB * MiB)),
  });
}
if (images.length === 0) throw new Error("nothing to pull: give --big-mib or --layers/--layer-mib above 0");

const keep = Boolean(process.env.KEEP);
const startedAt = new Date();
const t0 = performance.now();
const log = (message) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${message}`);

const { work } = benchWorkDir("registry-pull-through-", { keep });
const scratch = join(work, "scratch");
mkdirSync(scratch);

function firstLine(file, args) {
  return run(file, args, { timeoutMs: 10_000 })
    .then(({ stdout, stderr }) => `${stdout}${stderr}`.trim().split("\n")[0] || "n/a")
    .catch(() => "n/a");
}

async function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ?? "n/a";
  const memKiB = Number(/MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  const version = (name) => {
    try {
      return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
      return "n/a";
    }
  };
  const git = (args) =>
    run("git", args, { cwd: root, timeoutMs: 10_000 })
      .then(({ stdout }) => stdout.trim())
      .catch(() => "");
  const commit = (await git(["rev-parse", "--short", "HEAD"])) || "n/a";
  const changed = (await git(["status", "--porcelain", "--", "src", "migrations", "scripts", "wrangler.toml"]))
    .split("\n")
    .filter(Boolean);
  return [
    [
      "registry code",
      `commit ${commit}${changed.length ? ` plus uncommitted changes in ${changed.length} file(s) under src/, migrations/, scripts/ or wrangler.toml` : ""}`,
    ],
    ["CPU", `${model}, ${os.cpus().length} cores`],
    ["memory", `${(memKiB / 1024 / 1024).toFixed(1)} GiB`],
    ["kernel", `Linux ${os.release()}`],
    ["node", process.version],
    ["skopeo", await firstLine("skopeo", ["--version"])],
    ["docker-registry (distribution)", await firstLine("/usr/bin/docker-registry", ["--version"])],
    ["wrangler / miniflare / workerd", `${version("wrangler")} / ${version("miniflare")} / ${version("workerd")}`],
    ["@aws-sdk/client-ecr", version("@aws-sdk/client-ecr")],
  ];
}

// distribution's access log (gorilla's combined format, in the server's output):
//   127.0.0.1 - - [date] "GET /v2/library/bench/blobs/sha256:... HTTP/1.1" 200 1234 "" "ua"
function logOffset(peer) {
  return statSync(peer.logPath).size;
}
function upstreamRequestsSince(peer, offset) {
  const text = readFileSync(peer.logPath).subarray(offset).toString("utf8");
  const requests = [];
  for (const m of text.matchAll(/"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d{3})/g)) {
    const [, method, path, status] = m;
    const kind = /\/blobs\/sha256:/.test(path) ? "blob" : /\/manifests\//.test(path) ? "manifest" : "other";
    requests.push({ method, path, status: Number(status), kind });
  }
  const count = (kind, method) => requests.filter((r) => r.kind === kind && r.method === method).length;
  return {
    total: requests.length,
    blobGets: count("blob", "GET"),
    blobHeads: count("blob", "HEAD"),
    manifestGets: count("manifest", "GET"),
    manifestHeads: count("manifest", "HEAD"),
    other: requests.filter((r) => r.kind === "other").length,
    requests,
  };
}
const describeRequests = (c) =>
  `${c.total} (blob GET ${c.blobGets}, blob HEAD ${c.blobHeads}, manifest GET ${c.manifestGets}, manifest HEAD ${c.manifestHeads}, other ${c.other})`;

function sha256File(path) {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash("sha256");
    createReadStream(path, { highWaterMark: 4 * MiB })
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolvePromise(`sha256:${hash.digest("hex")}`));
  });
}

/** Checks that the pulled layout holds the built manifest, config and layers, byte for byte. */
async function verifyPulled(dir, image, label) {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const manifestDigest = index.manifests?.[0]?.digest;
  if (manifestDigest !== image.manifest.digest)
    throw new Error(`${label}: pulled manifest ${manifestDigest}, built ${image.manifest.digest}`);
  for (const blob of [image.config, ...image.layers]) {
    const path = join(dir, "blobs", "sha256", blob.digest.slice(7));
    if (!existsSync(path)) throw new Error(`${label}: pulled layout lacks ${blob.digest}`);
    const digest = await sha256File(path);
    if (digest !== blob.digest) throw new Error(`${label}: pulled ${blob.digest} hashes to ${digest}`);
  }
}

/** [own CPU ticks (utime + stime), waited-for children's ticks (cutime + cstime)] of a process. */
function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    return [f[11] + f[12], f[13] + f[14]];
  } catch {
    return [0, 0];
  }
}
const HZ = 100;

/**
 * CPU seconds so far of: the registry's workerd processes, the rest of its group (the Node
 * process running Miniflare and the TCP front), distribution, and this script's finished
 * children (the skopeo runs).
 */
function cpuNow(edge, upstream) {
  const workerd = new Set(groupPidsNamed(edge.pgid, "workerd"));
  const sum = (pids) => pids.reduce((a, pid) => a + cpuTicks(pid)[0], 0) / HZ;
  return {
    workerd: sum([...workerd]),
    edgeNode: sum(groupPids(edge.pgid).filter((pid) => !workerd.has(pid))),
    distribution: sum(groupPids(upstream.pgid)),
    skopeo: cpuTicks("self")[1] / HZ,
  };
}
const cpuDelta = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));

/** Runs one skopeo pull into a fresh OCI dir; returns seconds, workerd memory and upstream requests. */
async function pull(caseKey, src, { image, authFile, edge, upstream, rep }) {
  const dir = join(work, `pulled-${image.key}-${caseKey}-r${rep}`);
  const pids = groupPidsNamed(edge.pgid, "workerd");
  const rssBefore = memoryMiB(pids, "VmRSS").sumMiB;
  resetPeaks(pids);
  const offset = logOffset(upstream);
  const cpuBefore = cpuNow(edge, upstream);
  const machineBefore = cpuSnapshot();
  const { seconds } = await skopeoCopy(src, `oci:${dir}:${image.tag}`, { authFile, scratch });
  const peak = memoryMiB(pids).sumMiB;
  const cpu = cpuDelta(cpuBefore, cpuNow(edge, upstream));
  const others = otherCpu(machineBefore, cpuSnapshot());
  await sleep(300); // the access log line is written as the response completes
  const requests = upstreamRequestsSince(upstream, offset);
  await verifyPulled(dir, image, `${image.key} ${caseKey} rep ${rep}`);
  rmSync(dir, { recursive: true, force: true });
  return { seconds, peak, growth: peak - rssBefore, rssBefore, requests, cpu, others, workerdProcesses: pids.length };
}

/**
 * Control, one-layer image only: the same layer PUT straight into R2 through the bench-only
 * raw route (`/_bench/raw`, no registry code), with curl -T: what the local R2 simulation's
 * put costs by itself.
 */
async function rawPut(image, { edge, upstream, rep }) {
  const layer = image.layers[0];
  const pids = groupPidsNamed(edge.pgid, "workerd");
  const rssBefore = memoryMiB(pids, "VmRSS").sumMiB;
  resetPeaks(pids);
  const cpuBefore = cpuNow(edge, upstream);
  const machineBefore = cpuSnapshot();
  const put = await curlUpload(`${edge.url}/_bench/raw/pull-through-r${rep}`, layer.path, {
    method: "PUT",
    expectStatus: [201],
    scratch,
  });
  const peak = memoryMiB(pids).sumMiB;
  const cpu = cpuDelta(cpuBefore, cpuNow(edge, upstream));
  const others = otherCpu(machineBefore, cpuSnapshot());
  cpu.curl = cpu.skopeo;
  cpu.skopeo = NaN;
  if (put.bytes !== layer.size) throw new Error(`raw PUT sent ${put.bytes} of ${layer.size} bytes`);
  return {
    seconds: put.seconds,
    peak,
    growth: peak - rssBefore,
    rssBefore,
    cpu,
    others,
    requests: null,
    workerdProcesses: pids.length,
  };
}

const CASES = [
  { key: "direct", label: "(a) direct from distribution (the peer)" },
  { key: "miss", label: "(b) through the cache, first pull (miss)" },
  { key: "hit", label: "(c) through the cache, second pull (hit)" },
  { key: "rawPut", label: "control: raw R2 PUT of the layer (curl -T `/_bench/raw`)", only: "big" },
];

log(`temp dir ${work}; skopeo cache isolation: ${cacheIsolation()}`);
cpuSnapshot(); // starts sampling the CPU of processes outside this script
const info = await machine();
let edge;
let upstream;
const results = Object.fromEntries(images.map((i) => [i.key, Object.fromEntries(CASES.map((c) => [c.key, []]))]));
const problems = [];
try {
  log("starting distribution and this registry...");
  [upstream, edge] = await Promise.all([
    startDistribution({ dir: join(work, "distribution"), keep }),
    startEdgeRegistry({ root, dir: join(work, "edge-registry"), keep }),
  ]);
  log(`distribution on ${upstream.url}, edge-registry on ${edge.url}`);
  // startEdgeRegistry hands out the admin key as its Basic credentials.
  const decoded = Buffer.from(edge.basic, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const credentials = { accessKeyId: decoded.slice(0, colon), secretAccessKey: decoded.slice(colon + 1) };
  const ecr = new ECRClient({ endpoint: edge.url, region: "us-east-1", credentials, maxAttempts: 1 });

  for (let rep = 1; rep <= opts.reps; rep++) {
    const prefix = `hub-r${rep}`;
    const rule = await ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: prefix,
        upstreamRegistryUrl: `http://${upstream.host}`,
        upstreamRegistry: "docker-hub",
      }),
    );
    log(`rep ${rep}: rule ${rule.ecrRepositoryPrefix} -> ${rule.upstreamRegistryUrl} (${rule.upstreamRegistry})`);
    for (const spec of images) {
      const tag = `${spec.key}-r${rep}`;
      const built = await buildLayout(join(work, `source-${tag}`), spec.sizes, tag);
      const image = { ...built, key: spec.key, tag };
      const upstreamRef = `docker://${upstream.host}/library/bench:${tag}`;
      await skopeoCopy(image.ref, upstreamRef, { scratch });
      const ctx = { image, edge, upstream, rep };
      const cacheRef = `docker://${edge.host}/${prefix}/bench:${tag}`;
      const a = await pull("direct", upstreamRef, { ...ctx, authFile: upstream.authFile });
      const b = await pull("miss", cacheRef, { ...ctx, authFile: edge.authFile });
      const c = await pull("hit", cacheRef, { ...ctx, authFile: edge.authFile });
      const control = spec.key === "big" ? await rawPut(image, ctx) : null;
      rmSync(image.dir, { recursive: true, force: true });
      const blobs = image.layers.length + 1;
      if (b.requests.blobGets !== blobs) {
        problems.push(
          `rep ${rep} ${spec.label}: the miss made ${b.requests.blobGets} upstream blob GETs for ${blobs} blobs`,
        );
      }
      if (c.requests.blobGets !== 0) {
        problems.push(
          `rep ${rep} ${spec.label}: the hit made ${c.requests.blobGets} upstream blob GETs: ${c.requests.requests
            .filter((r) => r.kind === "blob" && r.method === "GET")
            .map((r) => `${r.path} ${r.status}`)
            .join(", ")}`,
        );
      }
      results[spec.key].direct.push(a);
      results[spec.key].miss.push(b);
      results[spec.key].hit.push(c);
      if (control) results[spec.key].rawPut.push(control);
      const mibs = (r) => fmt(image.layerBytes / MiB / r.seconds, 1);
      const controlText = control ? `, raw R2 PUT ${control.seconds.toFixed(2)} s (${mibs(control)} MiB/s)` : "";
      log(
        `rep ${rep} ${spec.label}: direct ${a.seconds.toFixed(2)} s (${mibs(a)} MiB/s), ` +
          `miss ${b.seconds.toFixed(2)} s (${mibs(b)} MiB/s, workerd peak ${fmt(b.peak, 0)} MiB), ` +
          `hit ${c.seconds.toFixed(2)} s (${mibs(c)} MiB/s)${controlText}; ` +
          `upstream requests during the miss: ${describeRequests(b.requests)}; during the hit: ${describeRequests(c.requests)}`,
      );
      spec.layerBytes = image.layerBytes;
    }
  }
} finally {
  log("stopping the servers...");
  await Promise.allSettled([edge?.stop(), upstream?.stop()]);
}

// The report.
const rows = [];
for (const spec of images) {
  const direct = median(results[spec.key].direct.map((r) => r.seconds));
  for (const c of CASES) {
    if (c.only && c.only !== spec.key) continue;
    const runs = results[spec.key][c.key];
    const seconds = median(runs.map((r) => r.seconds));
    const peak =
      c.key === "direct"
        ? "—"
        : `${fmt(median(runs.map((r) => r.peak)), 0)} (+${fmt(median(runs.map((r) => r.growth)), 0)})`;
    const up = runs.map((r) => r.requests);
    const cpu = (k) => fmt(median(runs.map((r) => r.cpu[k])), 1);
    rows.push([
      spec.label,
      c.label,
      seconds.toFixed(2),
      fmt(spec.layerBytes / MiB / seconds, 1),
      c.key === "direct" ? "1.00×" : c.key === "rawPut" ? "—" : fmtRatio(direct / seconds),
      peak,
      `${cpu("workerd")} / ${cpu("edgeNode")} / ${cpu("distribution")} / ${c.key === "rawPut" ? `(curl ${cpu("curl")})` : cpu("skopeo")}`,
      runs.map((r) => r.seconds.toFixed(2)).join(", "),
      c.key === "rawPut" ? "—" : up.map((u) => `${u.blobGets}/${u.manifestGets}/${u.total}`).join(", "),
    ]);
  }
}
const workerdCount = Math.max(
  0,
  ...Object.values(results).flatMap((byCase) => byCase.miss.map((r) => r.workerdProcesses)),
);
const totalSeconds = (performance.now() - t0) / 1000;
const allRuns = Object.values(results).flatMap((byCase) => Object.values(byCase).flat());
const otherShares = allRuns.map((r) => r.others.otherShare * 100);
const otherLine =
  `CPU taken by processes outside this script (sampled once a second, a lower bound) during the measured transfers: ` +
  `median ${fmt(median(otherShares), 0)} %, largest ${fmt(Math.max(...otherShares), 0)} % of the machine; ` +
  `CPU stolen by the hypervisor: largest ${fmt(Math.max(...allRuns.map((r) => r.others.stealShare * 100)), 0)} %.`;
const lines = [
  "",
  `node bench/pull-through.mjs --layers ${opts.layers} --layer-mib ${opts.layerMiB} --big-mib ${opts.bigMiB} --reps ${opts.reps}`,
  `date ${startedAt.toISOString()}; the run took ${totalSeconds.toFixed(0)} s`,
  "",
  table(["", ""], info),
  "",
  table(
    [
      "image",
      "case",
      "median s",
      "MiB/s (layer bytes)",
      "throughput ÷ direct",
      "workerd peak RSS MiB (growth)",
      "CPU-s: workerd / registry's node / distribution / skopeo",
      "runs (s)",
      "distribution requests: blob GET / manifest GET / all, per run",
    ],
    rows,
  ),
  "",
  `Medians over ${opts.reps} repetition(s); seconds are wall-clock per \`skopeo copy\` to a fresh OCI dir. Peak RSS = VmHWM summed over ` +
    `the ${workerdCount} workerd process(es) of the registry, reset right before the pull; growth = peak minus the RSS at that moment. ` +
    `CPU-s = utime + stime during the pull (medians): the registry's workerd, the rest of its process group (the Node process running ` +
    `Miniflare and the TCP front), distribution, and skopeo.`,
  `The raw PUT's seconds are curl's time_total. Every pulled manifest, config and layer matched the built digests. ` +
    `Upstream requests are counted from distribution's access log.`,
  otherLine,
];
console.log(lines.join("\n"));
if (problems.length > 0) {
  console.log(`\nPROBLEMS:\n${problems.map((p) => `- ${p}`).join("\n")}`);
  process.exitCode = 1;
} else {
  const hitBlobGets = Object.values(results).flatMap((byCase) => byCase.hit.map((r) => r.requests.blobGets));
  console.log(
    `\nUpstream blob GETs during the hits: ${hitBlobGets.join(", ")} (asserted 0); during each miss: one per blob.`,
  );
}
if (keep) console.log(`kept ${work}`);
