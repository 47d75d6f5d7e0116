/**
 * Runs the real skopeo CLI against the registry started by global-setup.ts, and reads the HTTP
 * requests it made out of its `--debug` output.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { inject } from "vitest";

export interface SkopeoResult {
  args: string[];
  /** Exit code; null when the process was killed (timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stdoutText: string;
  stderr: string;
  durationMs: number;
}

export interface SkopeoOptions {
  /** Adds the global `--debug` flag (logs every HTTP request on stderr). */
  debug?: boolean;
  /** Kills skopeo after this long; 120 s unless given. */
  timeoutMs?: number;
  /** Directory for skopeo's temporary files (`--tmpdir`). */
  tmpDir?: string;
  /**
   * The containers auth.json skopeo reads credentials from (REGISTRY_AUTH_FILE): the
   * bootstrap admin's unless given; pass inject("skopeoAnonymousAuthFile") to be anonymous.
   */
  authFile?: string;
}

/** Runs slower than this are reported on the console (each should take a few seconds at most). */
const SLOW_MS = 15_000;

/** What a failed or unexpected run looks like, for assertion messages. */
export function describeRun(result: SkopeoResult): string {
  const stderr = result.stderr.length > 8000 ? `…${result.stderr.slice(-8000)}` : result.stderr;
  const stdout = result.stdoutText.length > 2000 ? `${result.stdoutText.slice(0, 2000)}…` : result.stdoutText;
  return [
    `skopeo ${result.args.join(" ")}`,
    `exit ${result.code ?? `signal ${result.signal}`} after ${result.durationMs} ms`,
    `--- stdout ---\n${stdout}`,
    `--- stderr ---\n${stderr}`,
  ].join("\n");
}

/** Runs skopeo with explicit args (no shell); resolves whatever the exit code. */
export function runSkopeo(args: string[], options: SkopeoOptions = {}): Promise<SkopeoResult> {
  // Our own policy and registries.conf (a hidden global flag), so the machine's do not leak in.
  const global = ["--policy", inject("skopeoPolicyPath"), "--registries-conf", inject("skopeoRegistriesConfPath")];
  if (options.tmpDir) global.push("--tmpdir", options.tmpDir);
  if (options.debug) global.push("--debug");
  const fullArgs = [...global, ...args];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      "skopeo",
      fullArgs,
      {
        encoding: "buffer",
        timeout: options.timeoutMs ?? 120_000,
        killSignal: "SIGKILL",
        maxBuffer: 256 * 1024 * 1024,
        // For non-root users this also keeps skopeo's blob-info cache in the run's scratch dir.
        env: {
          ...process.env,
          XDG_DATA_HOME: inject("e2eTempDir"),
          REGISTRY_AUTH_FILE: options.authFile ?? inject("skopeoAdminAuthFile"),
        },
      },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
          reject(new Error("skopeo is not installed (apt-get install -y skopeo)"));
          return;
        }
        const exit = error as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
        const durationMs = Date.now() - started;
        if (durationMs > SLOW_MS) console.warn(`[e2e] slow: skopeo ${args.join(" ")} took ${durationMs} ms`);
        resolve({
          args: fullArgs,
          code: exit === null ? 0 : typeof exit.code === "number" ? exit.code : null,
          signal: exit?.signal ?? null,
          stdout,
          stdoutText: stdout.toString("utf8"),
          stderr: stderr.toString("utf8"),
          durationMs,
        });
      },
    );
  });
}

/** The last lines of the registry's log (one line per request), for failure messages. */
export function serverLogTail(lines = 40): string {
  try {
    const text = readFileSync(inject("registryLogPath"), "utf8");
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .slice(-lines)
      .join("\n");
  } catch (error) {
    return `(no server log: ${(error as Error).message})`;
  }
}

/** Runs skopeo and fails (with its stderr and the server log's tail in the message) unless it exits 0. */
export async function skopeo(args: string[], options: SkopeoOptions = {}): Promise<SkopeoResult> {
  const result = await runSkopeo(args, options);
  if (result.code !== 0)
    throw new Error(`skopeo failed:\n${describeRun(result)}\n--- registry log (tail) ---\n${serverLogTail()}`);
  return result;
}

// ---- references -------------------------------------------------------------------------------

/** `docker://127.0.0.1:<port>/<repository>[:tag|@digest]` for the registry under test. */
export function dockerRef(repository: string, reference?: string): string {
  const suffix = reference === undefined ? "" : reference.includes(":") ? `@${reference}` : `:${reference}`;
  return `docker://${inject("registryHost")}/${repository}${suffix}`;
}

export function ociRef(layout: string, tag: string): string {
  return `oci:${layout}:${tag}`;
}

// ---- requests from --debug output ---------------------------------------------------------------

export interface LoggedRequest {
  method: string;
  url: URL;
  /** Path without the `/v2/<repository>` prefix split off. */
  path: string;
}

/** The HTTP requests containers/image logged (`level=debug msg="<METHOD> <url>"`). */
export function requestsOf(stderr: string): LoggedRequest[] {
  const requests: LoggedRequest[] = [];
  const pattern = /msg="(GET|HEAD|POST|PATCH|PUT|DELETE) (https?:\/\/[^"\s]+)"/g;
  for (const match of stderr.matchAll(pattern)) {
    const url = new URL(match[2]!);
    requests.push({ method: match[1]!, url, path: url.pathname });
  }
  return requests;
}

/** Requests that start, feed or finish a blob upload session (a cross-repo mount is a POST too). */
export function uploadRequests(requests: readonly LoggedRequest[]): LoggedRequest[] {
  return requests.filter((r) => ["POST", "PATCH", "PUT"].includes(r.method) && /\/blobs\/uploads\//.test(r.path));
}

export function isMountRequest(request: LoggedRequest): boolean {
  return request.method === "POST" && request.url.searchParams.has("mount");
}

export function summarize(requests: readonly LoggedRequest[]): string {
  return requests.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`).join("\n");
}
