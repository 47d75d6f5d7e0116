#!/usr/bin/env node
// Restart loop: does the registry always come back after kill -9 with uploads in flight?
// Starts the registry as `npm start` does (scripts/start.mjs, its own process group) on one
// state dir kept across iterations; once it is ready, runs chunked uploads (POST, PATCHes of
// --chunk-kib, PUT ?digest=) and manifest PUTs on several connections, kills the whole process
// group with SIGKILL at a random moment, restarts it on the same state and checks that
// GET /v2/ answers within --answer-seconds of the "ready" line. A registry that does not
// answer (the symptom: workerd at 100 % CPU, answering nothing) is captured before it is
// killed: ps of the group, each thread's CPU, /proc/<pid>/stack and wchan, a gdb backtrace of
// every thread (gdb -batch), the state dir's files (SQLite -wal/-shm included) and a copy of
// the state dir for replay.
//   npm exec -- node bench/restart-loop.mjs [--iterations N (50)] [--answer-seconds S (15)]
//                               [--kill-within-ms M (8000)] [--uploads U (4)] [--chunk-kib K (1024)]
//                               [--chunks C (4)] [--startup-kills P (0.15)] [--keep-going] [--seed X]
// A share P of the iterations (after the first) kill the registry while it starts instead.
// KEEP=1 keeps the temp dir (state, logs) even when every restart answered.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { newAdminKey, newSigningKeyJwk } from "../scripts/dev-vars.mjs";
import { freePort, groupPids, sleep } from "./lib/proc.mjs";

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
    "npm exec -- node bench/restart-loop.mjs [--iterations N (50)] [--answer-seconds S (15)] [--kill-within-ms M (8000)] [--uploads U (4)] [--chunk-kib K (1024)] [--chunks C (4)] [--startup-kills P (0.15)] [--keep-going] [--seed X]",
  );
  process.exit(0);
}
const opts = {
  iterations: Math.round(option("--iterations", 50)),
  answerSeconds: option("--answer-seconds", 15),
  killWithinMs: option("--kill-within-ms", 8000),
  uploads: Math.max(1, Math.round(option("--uploads", 4))),
  chunkKiB: Math.max(1, Math.round(option("--chunk-kib", 1024))),
  chunks: Math.max(1, Math.round(option("--chunks", 4))),
  keepGoing: process.argv.includes("--keep-going"),
  seed: option("--seed", Date.now() % 1_000_000),
  startupKills: option("--startup-kills", 0.15),
};

// A small seeded generator, so a run's kill moments can be replayed with --seed.
let state = opts.seed >>> 0 || 1;
const random = () => {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 2 ** 32;
};

const t0 = performance.now();
const log = (message) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${message}`);
const work = mkdtempSync(join(os.tmpdir(), "registry-restart-loop-"));
const stateDir = join(work, "state");
const logsDir = join(work, "logs");
mkdirSync(logsDir, { recursive: true });
let current = null; // the registry's process group id while it runs
let keepWork = Boolean(process.env.KEEP);

function killGroup(pgid) {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {}
}
async function waitGone(pgid, ms = 10_000) {
  for (let waited = 0; waited < ms && groupPids(pgid).length > 0; waited += 50) await sleep(50);
  return groupPids(pgid).length === 0;
}
process.on("exit", () => {
  if (current !== null) killGroup(current);
  if (!keepWork) rmSync(work, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the registry${keepWork ? `; kept ${work}` : ` and removing ${work}`}`);
    process.exit(130);
  });
}

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const admin = newAdminKey();
const basic = Buffer.from(`${admin.id}:${admin.secret}`).toString("base64");
const env = {
  ...process.env,
  PORT: String(port),
  HOST: "127.0.0.1",
  REGISTRY_STATE_DIR: stateDir,
  REGISTRY_ADMIN_ACCESS_KEY_ID: admin.id,
  REGISTRY_ADMIN_SECRET_ACCESS_KEY: admin.secret,
  REGISTRY_TOKEN_SIGNING_KEY: JSON.stringify(await newSigningKeyJwk()),
};

function start(iteration) {
  const logPath = join(logsDir, `start-${String(iteration).padStart(3, "0")}.log`);
  const fd = openSync(logPath, "a");
  const child = spawn(process.execPath, [join(root, "scripts/start.mjs")], {
    cwd: root,
    env,
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  child.on("error", () => {});
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { pgid: child.pid, logPath, exited };
}

/** Resolves "ready" when the log says so, or "exited"/"timeout". */
async function waitReady(run, timeoutMs) {
  let exited = false;
  void run.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (readFileSync(run.logPath, "utf8").includes("Registry ready on")) return "ready";
    if (exited) return "exited";
    await sleep(100);
  }
  return "timeout";
}

/** Time until GET /v2/ is answered (any status), or null after `seconds`. */
let lastAnswerError = null;
async function firstAnswer(seconds) {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    try {
      const response = await fetch(`${url}/v2/`, {
        signal: AbortSignal.timeout(Math.max(100, Math.round(deadline - performance.now()))),
      });
      await response.arrayBuffer();
      return { ms: performance.now() - started, status: response.status };
    } catch (error) {
      lastAnswerError = String(error?.cause?.code ?? error?.cause?.message ?? error?.message ?? error);
      await sleep(100);
    }
  }
  return null;
}

let token = null;
let patches = 0;
async function pushToken() {
  const response = await fetch(
    `${url}/token?service=edge-registry&scope=${encodeURIComponent("repository:restart/loop:pull,push")}`,
    {
      headers: { Authorization: `Basic ${basic}` },
      signal: AbortSignal.timeout(10_000),
    },
  );
  const body = await response.json();
  if (!response.ok || !body.token) throw new Error(`token: ${response.status}`);
  return body.token;
}

/** One chunked upload and a manifest naming it; resolves when done or when the registry dies. */
async function uploadOnce(signal) {
  const auth = { Authorization: `Bearer ${token}` };
  const started = await fetch(`${url}/v2/restart/loop/blobs/uploads/`, { method: "POST", headers: auth, signal });
  await started.arrayBuffer();
  if (started.status !== 202) throw new Error(`POST upload: ${started.status}`);
  let location = new URL(started.headers.get("location"), url).href;
  const hash = createHash("sha256");
  let offset = 0;
  for (let i = 0; i < opts.chunks; i++) {
    const chunk = randomBytes(opts.chunkKiB * 1024);
    hash.update(chunk);
    const patched = await fetch(location, {
      method: "PATCH",
      headers: {
        ...auth,
        "Content-Type": "application/octet-stream",
        "Content-Range": `${offset}-${offset + chunk.length - 1}`,
        "Content-Length": String(chunk.length),
      },
      body: chunk,
      signal,
    });
    await patched.arrayBuffer();
    if (patched.status !== 202) throw new Error(`PATCH: ${patched.status}`);
    patches++;
    location = new URL(patched.headers.get("location"), url).href;
    offset += chunk.length;
  }
  const digest = `sha256:${hash.digest("hex")}`;
  const put = new URL(location);
  put.searchParams.set("digest", digest);
  const finished = await fetch(put, { method: "PUT", headers: auth, signal });
  await finished.arrayBuffer();
  if (finished.status !== 201) throw new Error(`PUT ?digest=: ${finished.status}`);
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [digest] } }),
  );
  const configDigest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
  const configPut = await fetch(`${url}/v2/restart/loop/blobs/uploads/?digest=${configDigest}`, {
    method: "POST",
    headers: auth,
    body: config,
    signal,
  });
  await configPut.arrayBuffer();
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size: offset }],
  });
  const tagged = await fetch(`${url}/v2/restart/loop/manifests/t${Math.floor(random() * 8)}`, {
    method: "PUT",
    headers: { ...auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
    body: manifest,
    signal,
  });
  await tagged.arrayBuffer();
  if (tagged.status !== 201) throw new Error(`manifest PUT: ${tagged.status}`);
}

function shell(file, args, timeout = 60_000) {
  const r = spawnSync(file, args, { encoding: "utf8", timeout });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
}

function treeOf(dir) {
  const lines = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else {
        try {
          lines.push(`${String(statSync(p).size).padStart(12)}  ${relative(dir, p)}`);
        } catch {}
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return lines.join("\n");
}

/** Everything worth knowing about a registry that does not answer, before it is killed. */
function capture(iteration, run) {
  const dir = join(work, `hang-${iteration}`);
  mkdirSync(dir, { recursive: true });
  const out = [];
  const pids = groupPids(run.pgid);
  out.push(`\n## curl -v ${url}/v2/ (5 s)\n${shell("curl", ["-sS", "-v", "-m", "5", `${url}/v2/`])}`);
  out.push(
    `# iteration ${iteration}: no answer to GET /v2/ within ${opts.answerSeconds} s of "ready" (last error: ${lastAnswerError})`,
  );
  out.push(`\n## ps\n${shell("ps", ["-o", "pid,ppid,pgid,stat,%cpu,rss,wchan:32,etime,cmd", "-p", pids.join(",")])}`);
  for (const pid of pids) {
    let cmd = "?";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").slice(0, 200);
    } catch {}
    out.push(`\n## pid ${pid}: ${cmd}`);
    const threads = [];
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        let wchan = "";
        try {
          wchan = readFileSync(`/proc/${pid}/task/${tid}/wchan`, "utf8");
        } catch {}
        threads.push(`  tid ${tid} ${name} state ${f[0]} utime ${f[11]} stime ${f[12]} wchan ${wchan}`);
      }
    } catch {}
    out.push(`threads (CPU ticks):\n${threads.join("\n")}`);
    try {
      out.push(`kernel stack:\n${readFileSync(`/proc/${pid}/stack`, "utf8")}`);
    } catch (error) {
      out.push(`kernel stack: ${error.message}`);
    }
    // Two CPU samples 2 s apart say which threads spin.
    out.push(
      `CPU over 2 s: ${shell("sh", ["-c", `cat /proc/${pid}/task/*/stat | awk '{print $1, $14+$15}'; sleep 2; echo --; cat /proc/${pid}/task/*/stat | awk '{print $1, $14+$15}'`])}`,
    );
    if (!shell("which", ["gdb"]).includes("gdb")) out.push("gdb not installed");
    else
      out.push(
        `gdb backtraces:\n${shell("gdb", ["-p", String(pid), "-batch", "-ex", "set pagination off", "-ex", "thread apply all bt 40"], 120_000)}`,
      );
  }
  out.push(`\n## state dir files\n${treeOf(stateDir)}`);
  out.push(`\n## start log (tail)\n${readFileSync(run.logPath, "utf8").slice(-6000)}`);
  writeFileSync(join(dir, "capture.md"), out.join("\n"));
  try {
    cpSync(stateDir, join(dir, "state"), { recursive: true });
  } catch {}
  keepWork = true;
  return dir;
}

log(`state ${stateDir}, port ${port}, seed ${opts.seed}; ${opts.iterations} iterations`);
const results = [];
let hangs = 0;
let lastReadyMs = null;
for (let iteration = 1; iteration <= opts.iterations; iteration++) {
  const startedAt = performance.now();
  const run = start(iteration);
  current = run.pgid;
  if (lastReadyMs !== null && random() < opts.startupKills) {
    // Some kills land while the registry starts (migrations, bundling, Miniflare booting).
    const killAfter = Math.round(random() * lastReadyMs);
    const early = await waitReady(run, killAfter);
    killGroup(run.pgid);
    const gone = await waitGone(run.pgid);
    current = null;
    results.push({ iteration, startupKill: true, killAfter, readyMs: NaN, gone });
    log(
      `iteration ${iteration}: killed -9 ${killAfter} ms into the start (${early === "ready" ? "after" : "before"} "ready")${gone ? "" : "; PROCESSES LEFT AFTER SIGKILL"}`,
    );
    continue;
  }
  const ready = await waitReady(run, 300_000);
  const readyMs = performance.now() - startedAt;
  if (ready === "ready") lastReadyMs = readyMs;
  const result = { iteration, readyMs, ready };
  if (ready !== "ready") {
    log(
      `iteration ${iteration}: start.mjs ${ready} before "ready" (log ${run.logPath}):\n${readFileSync(run.logPath, "utf8").slice(-3000)}`,
    );
    results.push(result);
    if (ready === "timeout") {
      result.capture = capture(iteration, run);
      hangs++;
    }
    killGroup(run.pgid);
    await waitGone(run.pgid);
    if (!opts.keepGoing) break;
    continue;
  }
  const answer = await firstAnswer(opts.answerSeconds);
  result.answer = answer;
  if (answer === null) {
    hangs++;
    result.capture = capture(iteration, run);
    log(
      `iteration ${iteration}: NO ANSWER within ${opts.answerSeconds} s of ready (last error: ${lastAnswerError}); captured in ${result.capture}`,
    );
    results.push(result);
    killGroup(run.pgid);
    await waitGone(run.pgid);
    if (!opts.keepGoing) break;
    continue;
  }
  // Uploads in flight, then kill -9 at a random moment.
  const killAfter = Math.round(random() * opts.killWithinMs);
  const controller = new AbortController();
  let completed = 0;
  let failed = 0;
  patches = 0;
  let firstError = null;
  try {
    token = await pushToken();
  } catch (error) {
    firstError = String(error);
  }
  const workers = Array.from({ length: opts.uploads }, async () => {
    while (!controller.signal.aborted) {
      try {
        await uploadOnce(controller.signal);
        completed++;
      } catch (error) {
        if (controller.signal.aborted) return;
        failed++;
        firstError ??= String(error?.message ?? error);
        await sleep(50);
      }
    }
  });
  await sleep(killAfter);
  killGroup(run.pgid);
  controller.abort();
  await Promise.allSettled(workers);
  const gone = await waitGone(run.pgid);
  current = null;
  Object.assign(result, { killAfter, completed, patches, failed, firstError, gone });
  results.push(result);
  log(
    `iteration ${iteration}: ready ${(readyMs / 1000).toFixed(1)} s, GET /v2/ ${answer.status} after ${answer.ms.toFixed(0)} ms; killed -9 after ${killAfter} ms of uploads (${patches} PATCHes and ${completed} images done, ${failed} failed before the kill${firstError ? `: ${firstError}` : ""})${gone ? "" : "; PROCESSES LEFT AFTER SIGKILL"}`,
  );
}

const answered = results.filter((r) => r.answer);
const answerMs = answered.map((r) => r.answer.ms).sort((a, b) => a - b);
const readySec = results
  .filter((r) => Number.isFinite(r.readyMs))
  .map((r) => r.readyMs / 1000)
  .sort((a, b) => a - b);
const pick = (values, q) => (values.length ? values[Math.min(values.length - 1, Math.floor(q * values.length))] : NaN);
console.log(
  [
    `restart loop: ${results.length} iteration(s) (${results.filter((r) => r.startupKill).length} killed while starting), ${hangs} without an answer (seed ${opts.seed}, kill within ${opts.killWithinMs} ms of the uploads starting, ${opts.uploads} uploads of ${opts.chunks} × ${opts.chunkKiB} KiB PATCHes)`,
    `start to "ready": median ${pick(readySec, 0.5).toFixed(1)} s, max ${Math.max(...readySec).toFixed(1)} s; "ready" to the first answer of GET /v2/: median ${pick(answerMs, 0.5).toFixed(0)} ms, max ${Math.max(...answerMs).toFixed(0)} ms`,
    `before the kills: ${results.reduce((a, r) => a + (r.patches ?? 0), 0)} PATCHes answered, ${results.reduce((a, r) => a + (r.completed ?? 0), 0)} images pushed; upload errors before a kill: ${results.reduce((a, r) => a + (r.failed ?? 0), 0)}`,
    ...results.filter((r) => r.capture).map((r) => `iteration ${r.iteration}: captured in ${r.capture}`),
  ].join("\n"),
);
if (keepWork) console.log(`kept ${work}`);
process.exitCode = hangs > 0 ? 1 : 0;
