#!/usr/bin/env node
// Does memory stay flat under sustained load? Sends many small requests (autocannon, keep-alive
// connections) and samples the resident memory (VmRSS, from /proc) of the workerd process
// every --every requests, then prints the curve and its slope in KiB per request.
//
// Cases, each on a server of its own, started fresh:
//   workerd   the peer: the workerd binary alone (no Miniflare), serving a one-line Worker
//             (`return new Response("ok")`): the runtime's own floor on this machine;
//   constant  this registry started as `npm start` does (scripts/start.mjs: Miniflare driving
//             workerd, behind the TCP front), bench route GET /_bench/constant (no registry
//             code beyond routing);
//   mix       the same registry, the registry's routes in turn: GET /v2/ with a bearer token
//             (token verification), manifest GET by tag, blob HEAD, GET /token with Basic
//             credentials, a 404 (unknown tag), an anonymous GET /v2/ (401).
//   npm exec -- node bench/memory.mjs [--requests N (300000)] [--every N (10000)] [--connections C (8)]
//                         [--cases workerd,constant,mix] [--idle S (10)]
// The slope is a least-squares fit of RSS against requests sent; "late slope" fits the second
// half only (after the runtime's heaps have grown to their working size); the targets (exit 1
// when missed) are a late slope of at most 0.5 KiB/request for the registry's cases and the
// mix's within 0.5 KiB/request of the constant route's, so runs shorter than the warm-up
// (about 100,000 requests) miss them. At the end of each
// case, when gdb is installed, the RSS is broken down: workerd links tcmalloc, whose counters
// (read through gdb) say how much of it is live native memory and how much is freed but kept.
// KEEP=1 keeps the temp dir (server state and logs).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { pullHeaders, pushHeaders } from "./lib/auth.mjs";
import { machineInfo } from "./lib/report.mjs";
import { benchWorkDir, freePort, groupPids, groupPidsNamed, sleep, startGroup, stopGroup } from "./lib/proc.mjs";
import { startEdgeRegistry } from "./lib/peers.mjs";
import { fmt, fmtRatio, table } from "./lib/stats.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

const CASES = ["workerd", "constant", "mix"];
function option(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${name} needs a positive number`);
  return n;
}
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(
    `npm exec -- node bench/memory.mjs [--requests N (300000)] [--every N (10000)] [--connections C (8)] [--cases ${CASES.join(",")}] [--idle S (10)]`,
  );
  process.exit(0);
}
const casesArg = process.argv.includes("--cases")
  ? (process.argv[process.argv.indexOf("--cases") + 1] ?? "")
  : CASES.join(",");
const opts = {
  requests: Math.round(option("--requests", 300_000)),
  every: Math.round(option("--every", 10_000)),
  connections: Math.round(option("--connections", 8)),
  idleSeconds: option("--idle", 10),
  cases: casesArg.split(",").filter(Boolean),
};
for (const c of opts.cases) if (!CASES.includes(c)) throw new Error(`unknown case ${c}; known: ${CASES.join(", ")}`);

const keep = Boolean(process.env.KEEP);
const t0 = performance.now();
const log = (message) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${message}`);
const { work } = benchWorkDir("registry-memory-", { keep });

// autocannon's response parser waits for a HEAD response's Content-Length bytes forever: tell
// it to skip the body when the request it is parsing the answer to is a HEAD (per connection).
const { HTTPParser } = require(require.resolve("http-parser-js", { paths: [dirname(require.resolve("autocannon"))] }));
Object.defineProperty(HTTPParser.prototype, HTTPParser.kOnHeadersComplete, {
  configurable: true,
  get() {
    return this.__memoryOnHeadersComplete;
  },
  set(handler) {
    this.__memoryOnHeadersComplete = function (...args) {
      const result = handler.apply(this, args);
      return this.__memoryClient?.pipelinedRequests.peek()?.req?.method === "HEAD" ? 1 : result;
    };
  },
});

function rssKiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

const TCMALLOC_PROPERTIES = [
  "generic.current_allocated_bytes",
  "generic.heap_size",
  "tcmalloc.pageheap_free_bytes",
  "tcmalloc.pageheap_unmapped_bytes",
];

/** tcmalloc's counters of a running workerd (bytes), read with gdb; null without gdb or symbols. */
function tcmallocStats(pid) {
  const args = ["-p", String(pid), "-batch", "-ex", "set $v = (unsigned long*)malloc(8)"];
  for (const name of TCMALLOC_PROPERTIES) {
    args.push("-ex", "set *$v = 0");
    args.push(
      "-ex",
      `call (char)MallocExtension_Internal_GetNumericProperty((const char*)"${name}", (unsigned long)${name.length}, $v)`,
    );
    args.push("-ex", `printf "${name} %lu\\n", *$v`);
  }
  const result = spawnSync("gdb", args, { encoding: "utf8", timeout: 60_000 });
  const values = {};
  for (const line of (result.stdout ?? "").split("\n")) {
    const match = /^(\S+) (\d+)$/.exec(line.trim());
    if (match && TCMALLOC_PROPERTIES.includes(match[1])) values[match[1]] = Number(match[2]);
  }
  return Object.keys(values).length === TCMALLOC_PROPERTIES.length ? values : null;
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** The bare workerd binary serving a one-line Worker, no Miniflare: the runtime's own floor. */
async function startBareWorkerd(dir) {
  const port = await freePort();
  writeFileSync(join(dir, "worker.js"), 'export default { fetch() { return new Response("ok"); } };\n');
  writeFileSync(
    join(dir, "config.capnp"),
    [
      'using Workerd = import "/workerd/workerd.capnp";',
      "const config :Workerd.Config = (",
      '  services = [ (name = "main", worker = .worker) ],',
      `  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],`,
      ");",
      'const worker :Workerd.Worker = (modules = [ (name = "worker.js", esModule = embed "worker.js") ], compatibilityDate = "2026-04-20");',
      "",
    ].join("\n"),
  );
  const binary = require.resolve("@cloudflare/workerd-linux-64/bin/workerd", {
    paths: [dirname(require.resolve("miniflare"))],
  });
  const logPath = join(dir, "workerd.log");
  const child = startGroup(binary, ["serve", join(dir, "config.capnp")], { cwd: dir, logPath, env: process.env });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(url)).status === 200) break;
    } catch {}
    if (i > 100) throw new Error(`bare workerd did not answer: ${readFileSync(logPath, "utf8").slice(-2000)}`);
    await sleep(100);
  }
  return { url, pgid: child.pid, stop: () => stopGroup(child.pid) };
}

async function pushBlob(edge, repo, bytes) {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const response = await fetch(`${edge.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    headers: {
      ...(await pushHeaders(edge, repo)),
      "Content-Type": "application/octet-stream",
      "Content-Length": String(bytes.length),
    },
    body: bytes,
  });
  await response.arrayBuffer();
  if (response.status !== 201) throw new Error(`blob upload: ${response.status}`);
  return { digest, size: bytes.length };
}

/** Pushes a small image and returns the requests of the `mix` case, each checked once. */
async function mixRequests(edge) {
  const repo = "memory/img";
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const layer = Buffer.alloc(4096, 7);
  const configDesc = await pushBlob(edge, repo, config);
  const layerDesc = await pushBlob(edge, repo, layer);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configDesc },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layerDesc }],
  });
  const put = await fetch(`${edge.url}/v2/${repo}/manifests/t1`, {
    method: "PUT",
    headers: { ...(await pushHeaders(edge, repo)), "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
    body: manifest,
  });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`manifest PUT: ${put.status}`);
  // Tokens live 5 minutes and a run lasts longer: requests marked `bearer` get the current
  // token when sent (refreshed by `bearer()`), or they would turn into 401s.
  const bearer = async () => (await pullHeaders(edge, repo)).Authorization;
  const accept = { Accept: "application/vnd.oci.image.manifest.v1+json" };
  const requests = [
    { method: "GET", path: "/v2/", headers: {}, bearer: true, expect: 200 },
    { method: "GET", path: `/v2/${repo}/manifests/t1`, headers: accept, bearer: true, expect: 200 },
    { method: "HEAD", path: `/v2/${repo}/blobs/${layerDesc.digest}`, headers: {}, bearer: true, expect: 200 },
    {
      method: "GET",
      path: `/token?service=edge-registry&scope=repository:${repo}:pull`,
      headers: { Authorization: `Basic ${edge.basic}` },
      expect: 200,
    },
    { method: "GET", path: `/v2/${repo}/manifests/missing`, headers: accept, bearer: true, expect: 404 },
    { method: "GET", path: "/v2/", headers: {}, expect: 401 },
  ];
  const token = await bearer();
  for (const r of requests) {
    const response = await fetch(edge.url + r.path, {
      method: r.method,
      headers: r.bearer ? { ...r.headers, Authorization: token } : r.headers,
    });
    await response.arrayBuffer();
    if (response.status !== r.expect)
      throw new Error(`${r.method} ${r.path}: ${response.status}, expected ${r.expect}`);
  }
  return { requests, bearer };
}

/**
 * Sends `opts.requests` requests in batches, sampling the workerd RSS after each batch. Every
 * request says the status it must get (`expect`); the statuses must come in those shares.
 */
async function drive(label, url, pid, requests, bearer = null) {
  const expected = requests.map((r) => r.expect);
  let authorization = bearer === null ? null : await bearer();
  const refresh =
    bearer === null ? null : setInterval(() => void bearer().then((value) => (authorization = value)), 30_000);
  const samples = [{ sent: 0, kib: rssKiB(pid), seconds: 0 }];
  const statuses = {};
  let errors = 0;
  const started = performance.now();
  log(`${label}: workerd pid ${pid}, RSS ${fmt(samples[0].kib / 1024, 1)} MiB before the load`);
  for (let sent = 0; sent < opts.requests;) {
    const amount = Math.min(opts.every, opts.requests - sent);
    const instance = autocannon({
      url,
      requests: requests.map(({ method, path, headers, bearer: needsToken }) =>
        needsToken
          ? {
              method,
              path,
              headers,
              setupRequest: (request) => ({
                ...request,
                headers: { ...request.headers, Authorization: authorization },
              }),
            }
          : { method, path, headers },
      ),
      connections: opts.connections,
      amount,
      timeout: 20,
      setupClient: (client) => {
        client.parser.__memoryClient = client;
      },
    });
    instance.on("response", (_client, status) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
    const result = await instance;
    errors += result.errors + result.timeouts;
    sent += amount;
    const sample = { sent, kib: rssKiB(pid), seconds: (performance.now() - started) / 1000 };
    samples.push(sample);
    if (samples.length % 5 === 1 || sent === opts.requests) {
      log(
        `${label}: ${sent.toLocaleString("en-US")} requests, RSS ${fmt(sample.kib / 1024, 1)} MiB, ${fmt(sent / sample.seconds, 0)} req/s`,
      );
    }
  }
  if (refresh !== null) clearInterval(refresh);
  await sleep(opts.idleSeconds * 1000);
  const idleKiB = rssKiB(pid);
  const tcmalloc = tcmallocStats(pid);
  const points = samples.map((s) => ({ x: s.sent, y: s.kib }));
  const late = points.slice(Math.floor(points.length / 2));
  const share = new Map();
  expected.forEach((status) => share.set(status, (share.get(status) ?? 0) + 1));
  const unexpected = Object.entries(statuses)
    .filter(([status]) => !share.has(Number(status)))
    .map(([status, count]) => `${count} × ${status}`);
  // Each connection sends the requests in turn, so each status comes in its share (give or take
  // the last round of each connection).
  for (const [status, n] of share) {
    const want = (opts.requests * n) / expected.length;
    const got = statuses[status] ?? 0;
    if (Math.abs(got - want) > opts.requests * 0.01 + opts.connections * expected.length)
      unexpected.push(`${got} × ${status}, expected about ${Math.round(want)}`);
  }
  return {
    label,
    samples,
    idleKiB,
    tcmalloc,
    slope: slope(points),
    lateSlope: slope(late),
    peakKiB: Math.max(...samples.map((s) => s.kib)),
    rps: opts.requests / samples.at(-1).seconds,
    statuses,
    errors,
    unexpected,
  };
}

async function runCase(name) {
  const dir = mkdtempSync(join(work, `${name}-`));
  if (name === "workerd") {
    const server = await startBareWorkerd(dir);
    try {
      const [pid] = groupPids(server.pgid);
      return await drive("bare workerd, one-line Worker", server.url, pid, [{ method: "GET", path: "/", expect: 200 }]);
    } finally {
      await server.stop();
    }
  }
  const edge = await startEdgeRegistry({ root, dir, keep });
  try {
    const pids = groupPidsNamed(edge.pgid, "workerd");
    if (pids.length !== 1)
      throw new Error(`expected one workerd process in the registry's group, found ${pids.length}`);
    if (name === "constant")
      return await drive("registry, GET /_bench/constant", edge.url, pids[0], [
        { method: "GET", path: "/_bench/constant", expect: 200 },
      ]);
    const { requests, bearer } = await mixRequests(edge);
    return await drive("registry, mix of registry routes", edge.url, pids[0], requests, bearer);
  } finally {
    await edge.stop();
  }
}

const startedAt = new Date();
const results = [];
for (const name of opts.cases) results.push({ name, ...(await runCase(name)) });

const MiBof = (kib) => fmt(kib / 1024, 1);
const perRequest = (kibPerRequest) => (Number.isFinite(kibPerRequest) ? kibPerRequest.toFixed(3) : "n/a");
const peer = results.find((r) => r.name === "constant") ?? results.find((r) => r.name === "workerd");
const lines = [];
lines.push(
  `\`node bench/memory.mjs --requests ${opts.requests} --every ${opts.every} --connections ${opts.connections} --cases ${opts.cases.join(",")}\`, run on ${startedAt.toISOString()}, took ${fmt((performance.now() - t0) / 60000, 1)} min.`,
);
lines.push("");
lines.push(
  table(
    [
      "case",
      "RSS before MiB",
      "RSS after MiB",
      "peak MiB",
      `after ${opts.idleSeconds} s idle MiB`,
      "slope KiB/request",
      "late slope KiB/request (2nd half)",
      peer ? `late slope − ${peer.name}'s` : "",
      peer ? `RSS after ÷ ${peer.name}'s` : "",
      "req/s",
      "statuses",
      "errors",
    ],
    results.map((r) => [
      r.label,
      MiBof(r.samples[0].kib),
      MiBof(r.samples.at(-1).kib),
      MiBof(r.peakKiB),
      MiBof(r.idleKiB),
      perRequest(r.slope),
      perRequest(r.lateSlope),
      peer && peer !== r
        ? `${r.lateSlope - peer.lateSlope >= 0 ? "+" : ""}${perRequest(r.lateSlope - peer.lateSlope)}`
        : "—",
      peer && peer !== r ? fmtRatio(r.samples.at(-1).kib / peer.samples.at(-1).kib) : "—",
      fmt(r.rps, 0),
      Object.entries(r.statuses)
        .map(([s, n]) => `${s}: ${n}`)
        .join(", ") + (r.unexpected.length ? ` (unexpected: ${r.unexpected.join(", ")})` : ""),
      String(r.errors),
    ]),
  ),
);
if (results.some((r) => r.tcmalloc)) {
  lines.push("");
  lines.push(
    'Where the RSS is, at the end (tcmalloc counters read with gdb; "freed, kept" = tcmalloc\'s page heap free bytes, never returned to the system when unmapped stays 0):',
  );
  lines.push("");
  const M = (bytes) => (Number.isFinite(bytes) ? fmt(bytes / 2 ** 20, 1) : "n/a");
  lines.push(
    table(
      [
        "case",
        "RSS MiB",
        "tcmalloc heap MiB",
        "of which live (allocated) MiB",
        "freed, kept in the page heap MiB",
        "returned to the system MiB",
        "RSS outside tcmalloc MiB (V8 heaps, code, stacks)",
      ],
      results.map((r) => {
        const t = r.tcmalloc ?? {};
        return [
          r.label,
          MiBof(r.idleKiB),
          M(t["generic.heap_size"]),
          M(t["generic.current_allocated_bytes"]),
          M(t["tcmalloc.pageheap_free_bytes"]),
          M(t["tcmalloc.pageheap_unmapped_bytes"]),
          M(r.idleKiB * 1024 - (t["generic.heap_size"] ?? NaN)),
        ];
      }),
    ),
  );
}
lines.push("");
lines.push("Curve (workerd RSS, MiB, after each number of requests):");
lines.push("");
const stride = Math.max(1, Math.ceil((results[0]?.samples.length ?? 1) / 16));
const rows = [];
for (let i = 0; i < (results[0]?.samples.length ?? 0); i += stride) rows.push(i);
if (rows.at(-1) !== results[0].samples.length - 1) rows.push(results[0].samples.length - 1);
lines.push(
  table(
    ["requests", ...results.map((r) => r.name)],
    rows.map((i) => [
      results[0].samples[i].sent.toLocaleString("en-US"),
      ...results.map((r) => (r.samples[i] ? MiBof(r.samples[i].kib) : "")),
    ]),
  ),
);
// The target: after the warm-up, the registry's memory is flat, and its own routes add nothing
// per request to what the runtime does on its constant route (the report was 8-9 KiB/request).
const FLAT_KIB_PER_REQUEST = 0.5;
const targets = [];
for (const r of results.filter((x) => x.name !== "workerd")) {
  const flat = r.lateSlope <= FLAT_KIB_PER_REQUEST;
  targets.push({
    met: flat,
    text: `${r.label}: late slope ${perRequest(r.lateSlope)} KiB/request ≤ ${FLAT_KIB_PER_REQUEST}`,
  });
  if (r !== peer && peer?.name === "constant") {
    const excess = r.lateSlope - peer.lateSlope;
    targets.push({
      met: excess <= FLAT_KIB_PER_REQUEST,
      text: `${r.label}: late slope within ${FLAT_KIB_PER_REQUEST} KiB/request of the constant route's (${excess >= 0 ? "+" : ""}${perRequest(excess)})`,
    });
  }
}
if (targets.length) {
  lines.push("");
  lines.push("Targets (flat memory after the warm-up; the report was 8–9 KiB/request):");
  lines.push("");
  for (const t of targets) lines.push(`- [${t.met ? "x" : " "}] **${t.met ? "MET" : "MISSED"}** ${t.text}`);
}
lines.push("");
lines.push("Machine:");
lines.push("");
lines.push(
  table(
    ["", ""],
    machineInfo(root).filter(([k]) => !["skopeo", "docker-registry (distribution)", "nginx", "curl"].includes(k)),
  ),
);
console.log(lines.join("\n"));
const bad = results.filter((r) => r.unexpected.length > 0 || r.errors > 0);
if (bad.length) {
  console.error(`unexpected answers or errors in: ${bad.map((r) => r.name).join(", ")}`);
  process.exitCode = 1;
}
if (targets.some((t) => !t.met)) {
  console.error(
    `missed: ${targets
      .filter((t) => !t.met)
      .map((t) => t.text)
      .join("; ")}`,
  );
  process.exitCode = 1;
}
