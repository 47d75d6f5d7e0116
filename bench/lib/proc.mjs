// Processes: running commands with time limits, starting servers in their own process group,
// stopping whole groups (bounded), and reading the peak memory of a group's processes.
import { execFile, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a command; resolves {stdout, stderr, seconds}; rejects with the output on failure. */
export function run(file, args, { timeoutMs = 20 * 60_000, env, cwd, input } = {}) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = execFile(
      file,
      args,
      { env: env ?? process.env, cwd, maxBuffer: 64 << 20, timeout: timeoutMs, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        const seconds = (performance.now() - start) / 1000;
        if (error) {
          error.message =
            `${file} ${args.join(" ")} failed (${error.code ?? error.signal}): ${stderr || stdout || error.message}`.slice(
              0,
              4000,
            );
          reject(error);
        } else resolve({ stdout, stderr, seconds });
      },
    );
    if (input !== undefined) child.stdin.end(input);
  });
}

/** A TCP port free now on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
    probe.once("error", reject);
  });
}

const groups = new Set();
const stopping = new Set();

/** Starts a long-running server in a new process group (session), output to `logPath`. */
export function startGroup(file, args, { env, cwd, logPath }) {
  const fd = openSync(logPath, "a");
  const child = spawn(file, args, { env, cwd, stdio: ["ignore", fd, fd], detached: true });
  child.on("error", () => {});
  child.on("exit", (code, signal) => {
    const still = groupPids(child.pid).map(
      (pid) => `${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]}`,
    );
    const line = `[bench] ${file} exited (code ${code}, signal ${signal}); left in its group: ${still.join(", ") || "nothing"}`;
    try {
      appendFileSync(logPath, `${line}\n`);
    } catch {}
    if (groups.has(child.pid) && !stopping.has(child.pid)) console.error(`${line} (log: ${logPath})`);
  });
  groups.add(child.pid);
  return child;
}

/** Live (non-zombie) processes of a process group. */
export function groupPids(pgid) {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

/** SIGTERM to the group, then SIGKILL after `graceMs`; waits (bounded) until it is gone. */
export async function stopGroup(pgid, graceMs = 8000) {
  if (!groups.has(pgid)) return;
  stopping.add(pgid);
  const signal = (sig) => {
    try {
      process.kill(-pgid, sig);
    } catch {}
  };
  signal("SIGTERM");
  for (let waited = 0; waited < graceMs && groupPids(pgid).length > 0; waited += 100) await sleep(100);
  if (groupPids(pgid).length > 0) {
    signal("SIGKILL");
    for (let i = 0; i < 50 && groupPids(pgid).length > 0; i++) await sleep(100);
  }
  groups.delete(pgid);
}

/** Synchronous last resort (process exit handlers): SIGKILL every group still registered. */
export function killAllGroupsSync() {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {}
  }
  groups.clear();
}

/** Processes of a group whose command line mentions `name`. */
export function groupPidsNamed(pgid, name) {
  return groupPids(pgid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(name);
    } catch {
      return false;
    }
  });
}

/** CPU seconds (user + system, all threads) used so far by the live processes of a group, or of `pids`. */
export function groupCpuSeconds(pgid, pids = groupPids(pgid)) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks / 100; // USER_HZ
}

/** Resets VmHWM to the current RSS (`echo 5 > clear_refs`). */
export function resetPeaks(pids) {
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
    } catch {}
  }
}

function statusKiB(pid, field) {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** {sumMiB, maxMiB} of VmHWM (or another /proc status field) over `pids`. */
export function memoryMiB(pids, field = "VmHWM") {
  const values = pids.map((pid) => statusKiB(pid, field) / 1024);
  return { sumMiB: values.reduce((a, b) => a + b, 0), maxMiB: Math.max(0, ...values), perPid: values };
}

const everStarted = new Set();

/** [pid, ppid, pgid, own CPU ticks (utime + stime)] of every live process. */
function processTable() {
  const rows = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // After the command name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12).
      rows.push([Number(entry), Number(f[1]), Number(f[2]), Number(f[11]) + Number(f[12])]);
    } catch {}
  }
  return rows;
}

// Other processes' CPU, sampled once a second: the own CPU time (not children's) of every
// process that is neither this suite's process, nor its descendant, nor in a process group it
// started (a server's workerd stays in its group after its parent has exited). A lower bound: a
// process that lives less than a second between two samples is missed.
let foreignTicks = 0;
let previous = null;
function sampleForeign() {
  for (const pgid of groups) everStarted.add(pgid);
  const table = processTable();
  const parent = new Map(table.map(([pid, ppid]) => [pid, ppid]));
  const isMine = (pid, pgid) => {
    if (everStarted.has(pgid)) return true;
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parent.get(p), hops++) if (p === process.pid) return true;
    return false;
  };
  const now = new Map();
  for (const [pid, , pgid, ticks] of table) if (!isMine(pid, pgid)) now.set(pid, ticks);
  if (previous) for (const [pid, ticks] of now) foreignTicks += Math.max(0, ticks - (previous.get(pid) ?? 0));
  previous = now;
}
let sampler = null;

/** Machine CPU counters and other processes' CPU so far (starts the sampler on first use). */
export function cpuSnapshot() {
  if (!sampler) {
    sampleForeign();
    sampler = setInterval(sampleForeign, 1000);
    sampler.unref();
  }
  sampleForeign();
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return {
    foreign: foreignTicks,
    steal: line[7] ?? 0,
    total: line.slice(0, 8).reduce((a, b) => a + b, 0),
    at: performance.now(),
  };
}

/** {seconds, otherCpuSeconds, otherShare, stealShare} between two snapshots. */
export function otherCpu(before, after) {
  const hz = 100;
  const seconds = (after.at - before.at) / 1000;
  const cores = Math.max(1, Math.round((after.total - before.total) / hz / Math.max(seconds, 1e-9)));
  const capacity = Math.max(seconds * cores, 1e-9);
  const other = (after.foreign - before.foreign) / hz;
  return {
    seconds,
    otherCpuSeconds: other,
    otherShare: other / capacity,
    stealShare: (after.steal - before.steal) / hz / capacity,
  };
}

/**
 * A fresh work directory under the OS temp dir, removed (unless `keep`) with every server
 * group this process started when the process exits or is interrupted.
 */
export function benchWorkDir(prefix, { keep = false } = {}) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  let cleaned = false;
  const cleanupSync = () => {
    if (cleaned) return;
    cleaned = true;
    killAllGroupsSync();
    if (!keep) rmSync(work, { recursive: true, force: true });
  };
  process.on("exit", cleanupSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping the servers and removing ${work}`);
      cleanupSync();
      process.exit(130);
    });
  }
  return { work, cleanupSync };
}
