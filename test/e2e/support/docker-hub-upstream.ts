/**
 * A stand-in for Docker Hub on 127.0.0.1, for the pull-through cache's e2e tests (there is no
 * internet here, and real Hub's rate limits and outages cannot be provoked on demand).
 *
 * It models what a registry client sees from registry-1.docker.io and auth.docker.io:
 * - a backing store that is the real CNCF distribution registry (Debian's `docker-registry`,
 *   filesystem storage, no auth), so manifests, blobs, digests, Accept negotiation and ranges
 *   behave like a real registry; tests seed it with skopeo, bypassing the front;
 * - a front (node:http) that forwards GET/HEAD under /v2/ to it, streaming, and demands a
 *   Bearer token the way Hub does: 401 with `WWW-Authenticate: Bearer realm=...,
 *   service="registry.docker.io",scope="repository:<name>:pull"`;
 * - a token server on its own port (Hub's realm is another host): anonymous or Basic with the
 *   one valid account, tokens scoped to the repositories asked for, valid 300 s;
 * - Hub's pull rate limit: `ratelimit-limit` / `ratelimit-remaining` on manifest responses, a
 *   manifest GET counts (a HEAD does not), 429 TOOMANYREQUESTS when exhausted or forced;
 * - faults for tests: forced 429s, tampered blob bytes, a status for every /v2 request, slow
 *   blob GETs, and pause()/resume() for "upstream unreachable" (connection refused);
 * - with `modes.blobRedirect`, Hub's blob CDN: an authorized blob GET on the front answers
 *   `307 Temporary Redirect` to a signed URL on a third listener (standing in for
 *   production.cloudflare.docker.com), which serves the bytes without asking for credentials,
 *   with CDN headers (no Docker-Content-Digest).
 * Every request to the front, the token server and the CDN is recorded, so tests can assert
 * how many times the upstream was hit (the point of a cache) and what it was sent.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline, Transform, type TransformCallback } from "node:stream";
import { freePort, signalGroup, stopGroup } from "./process-groups";

export interface UpstreamRequest {
  /** Date.now() when the request arrived. */
  at: number;
  method: string;
  /** Path with the query, percent-decoded, e.g. `/token?service=registry.docker.io&scope=repository:library/alpine:pull`. */
  path: string;
  /** "cdn": a request to the blob CDN (the target of the front's 307s in redirect mode). */
  kind: "manifest" | "blob" | "token" | "ping" | "cdn" | "other";
  /** Status answered; 0 while undecided or when no answer was sent (client gone, paused mid-request). */
  status: number;
  /**
   * Front: a valid token covering the request was presented. Token server: valid Basic
   * credentials. CDN: the request carried an Authorization header, of any kind (the CDN needs
   * none; it must never be sent one).
   */
  authorized: boolean;
}

export interface HubModes {
  /** Manifest GET (and HEAD when rateLimitHeads) answers 429 like Docker Hub. */
  rateLimited: boolean;
  /** Default false: HEADs stay free as on Docker Hub. */
  rateLimitHeads: boolean;
  /** Digests whose GET body is served with one byte flipped (same length, same headers). */
  tamperedBlobs: Set<string>;
  /** When set, every /v2 request answers this status (e.g. 503). */
  failAll: number | null;
  /** Delay before answering blob GETs (lets tests overlap concurrent pulls); in redirect mode the CDN waits, not the front. */
  blobDelayMs: number;
  /**
   * Blob GETs on the front answer 307 to the CDN, as Docker Hub does (HEADs and unknown blobs
   * are still answered by the front). The CDN honours tamperedBlobs and blobDelayMs.
   */
  blobRedirect: boolean;
}

export interface DockerHubUpstream {
  /** host:port of the registry front, e.g. "127.0.0.1:41234" (what a pull-through rule's upstreamRegistryUrl names as "http://127.0.0.1:41234"). */
  host: string;
  /** "http://" + host */
  url: string;
  /** The realm, on a separate port: "http://127.0.0.1:<port>/token". */
  tokenUrl: string;
  /** The blob CDN the front redirects to in blobRedirect mode, on its own port: "http://127.0.0.1:<port>". */
  cdnUrl: string;
  /** Mutable; tests change fields directly. */
  modes: HubModes;
  /** Every request to the front, the token server and the CDN, in order of arrival. */
  requests: UpstreamRequest[];
  count(filter: Partial<Pick<UpstreamRequest, "method" | "kind">> & { pathIncludes?: string }): number;
  /** Clears requests, resets modes to defaults and the rate-limit remaining counter (issued tokens and CDN signatures stay valid). */
  reset(): void;
  /**
   * Copies an image into the upstream with skopeo, straight into the backing registry (bypassing
   * the front and its counters), e.g. seed("oci:/tmp/x/layout:1.0", "library/alpine:3.20").
   * `destination` is `<repository>[:tag|@digest]`; pass `{ all: true }` for indexes.
   */
  seed(sourceRef: string, destination: string, options?: { all?: boolean }): Promise<void>;
  /** Stops only the front, the token server and the CDN (the backing registry keeps its data); resume() brings them back on the same ports. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops everything and deletes its temp dir. */
  stop(): Promise<void>;
  /** The one valid account. */
  credentials: { username: string; accessToken: string };
  /** The backing distribution registry (no auth, no counters), for debugging or direct reads. */
  backingUrl: string;
  /** docker-registry's log. */
  logPath: string;
}

const SERVICE = "registry.docker.io";
const RATE_LIMIT = 100;
const RATE_WINDOW = "w=21600";
const TOKEN_TTL_SECONDS = 300;
const DISTRIBUTION = "/usr/bin/docker-registry";
const READY_TIMEOUT_MS = 20_000;
/**
 * Runs `$2...` and stops it within a second of process `$1` (this test process) going away, so a
 * test run killed without stop() (SIGKILL, Ctrl-C of vitest) leaves no registry behind. Started
 * detached, it leads the process group that stop() signals.
 */
const WATCHDOG = [
  "parent=$1; shift",
  '"$@" &',
  "child=$!",
  'trap \'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0\' TERM INT HUP',
  'while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1 & wait $!; done',
  'kill -TERM "$child" 2>/dev/null',
  'wait "$child"',
].join("\n");
const STOP_GRACE_MS = 5_000;

const TOO_MANY_REQUESTS = JSON.stringify({
  errors: [
    {
      code: "TOOMANYREQUESTS",
      message:
        "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
    },
  ],
});

/** What the CDN passes on from the backing registry's blob response (a CDN sends no Docker-* headers). */
const CDN_HEADERS = new Set([
  "content-type",
  "content-length",
  "content-range",
  "accept-ranges",
  "etag",
  "last-modified",
]);

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function defaultModes(): Omit<HubModes, "tamperedBlobs"> {
  return { rateLimited: false, rateLimitHeads: false, failAll: null, blobDelayMs: 0, blobRedirect: false };
}

interface Grant {
  repositories: Set<string>;
  expiresAt: number;
}

/** What a /v2 path addresses. */
interface Route {
  kind: UpstreamRequest["kind"];
  /** Repository name, or null for the ping, the catalog and unknown paths. */
  repository: string | null;
  /** Blob digest for blob paths. */
  digest: string | null;
}

function route(pathname: string): Route {
  if (pathname === "/v2/" || pathname === "/v2") return { kind: "ping", repository: null, digest: null };
  let m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(pathname);
  if (m) return { kind: "manifest", repository: m[1]!, digest: null };
  m = /^\/v2\/(.+)\/blobs\/uploads(?:\/.*)?$/.exec(pathname);
  if (m) return { kind: "other", repository: m[1]!, digest: null };
  m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(pathname);
  if (m) return { kind: "blob", repository: m[1]!, digest: decodeURIComponent(m[2]!) };
  m = /^\/v2\/(.+)\/(?:tags\/list|referrers\/[^/]+)$/.exec(pathname);
  if (m) return { kind: "other", repository: m[1]!, digest: null };
  return { kind: "other", repository: null, digest: null };
}

function decodedPath(url: URL): string {
  const query = [...url.searchParams].map(([k, v]) => `${k}=${v}`).join("&");
  return query === "" ? url.pathname : `${url.pathname}?${query}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8").slice(-4000);
  } catch {
    return "(no log)";
  }
}

/**
 * Starts docker-registry (under WATCHDOG, detached: its own process group) on a free port over
 * `dir`/data; retries if the port was taken meanwhile.
 */
async function startDistribution(
  dir: string,
  logPath: string,
): Promise<{ child: ChildProcess; pgid: number; host: string }> {
  if (!existsSync(DISTRIBUTION)) {
    throw new Error(
      `${DISTRIBUTION} is missing; the Docker Hub upstream harness needs the CNCF distribution registry. Install it: \`apt-get install -y --no-install-recommends docker-registry\` (.ci/run does this).`,
    );
  }
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = join(dir, "config.yml");
    await writeFile(
      config,
      [
        "version: 0.1",
        "log:",
        "  level: info",
        "  accesslog:",
        "    disabled: false",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${join(dir, "data")}`,
        "  delete:",
        "    enabled: true",
        "  cache:",
        "    blobdescriptor: inmemory",
        "http:",
        `  addr: ${host}`,
        `  secret: ${randomBytes(16).toString("hex")}`,
        "",
      ].join("\n"),
    );
    const fd = openSync(logPath, "a");
    const child = spawn("/bin/sh", ["-c", WATCHDOG, "watchdog", String(process.pid), DISTRIBUTION, "serve", config], {
      cwd: dir,
      stdio: ["ignore", fd, fd],
      detached: true,
    });
    closeSync(fd);
    child.on("error", () => {});
    const pgid = child.pid;
    if (pgid === undefined) throw new Error(`could not start ${DISTRIBUTION}:\n${readLog(logPath)}`);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = "no answer";
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      try {
        const response = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        if (response.status === 200) return { child, pgid, host };
        last = `HTTP ${response.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(50);
    }
    await stopGroup(pgid, STOP_GRACE_MS);
    lastError = new Error(
      `docker-registry did not answer GET http://${host}/v2/ with 200 (last: ${last}); its log:\n${readLog(logPath)}`,
    );
  }
  throw lastError ?? new Error("docker-registry did not start");
}

function runCommand(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      args,
      { env, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (!error) {
          resolvePromise();
          return;
        }
        if ((error as NodeJS.ErrnoException).code === "ENOENT")
          reject(new Error(`${file} is not installed (apt-get install -y ${file})`));
        else reject(new Error(`${file} ${args.join(" ")} failed: ${stderr || stdout || error.message}`.slice(0, 6000)));
      },
    );
  });
}

/** Flips the byte at `offset` of the stream (XOR 0xff); length and everything else unchanged. */
function flipByteAt(offset: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (offset >= seen && offset < seen + chunk.length) {
        const copy = Buffer.from(chunk);
        copy[offset - seen] = copy[offset - seen]! ^ 0xff;
        chunk = copy;
      }
      seen += chunk.length;
      callback(null, chunk);
    },
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, "127.0.0.1", () => {
      server.removeListener("error", onError);
      resolvePromise((server.address() as AddressInfo).port);
    });
  });
}

/** A server whose open sockets are tracked, so close() can drop keep-alive and in-flight connections at once. */
function trackedServer(handler: (req: IncomingMessage, res: ServerResponse) => void): {
  server: Server;
  close(): Promise<void>;
} {
  const server = createServer(handler);
  // Hub keeps connections alive; a short idle timeout keeps stop() and pause() prompt anyway.
  server.keepAliveTimeout = 5_000;
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolvePromise) => {
        if (!server.listening) {
          resolvePromise();
          return;
        }
        server.close(() => resolvePromise());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * Starts the backing registry, the front and the token server. `dir` is where its temp dir is
 * made (the OS temp dir unless given); stop() deletes that temp dir.
 */
export async function startDockerHubUpstream(options: { dir?: string } = {}): Promise<DockerHubUpstream> {
  const dir = await mkdtemp(join(options.dir ?? tmpdir(), "docker-hub-upstream-"));
  const logPath = join(dir, "docker-registry.log");
  const policyPath = join(dir, "policy.json");
  const registriesConfPath = join(dir, "registries.conf");
  const authFile = join(dir, "auth.json");
  await writeFile(policyPath, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
  await writeFile(registriesConfPath, "unqualified-search-registries = []\n");
  await writeFile(authFile, JSON.stringify({ auths: {} }));

  let distribution: { child: ChildProcess; pgid: number; host: string };
  try {
    distribution = await startDistribution(dir, logPath);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const backingPgid = distribution.pgid;
  const backingHost = distribution.host;
  const [backingHostname, backingPortText] = backingHost.split(":") as [string, string];
  const backingPort = Number(backingPortText);
  // Backstop: never leave docker-registry behind if the test process dies without stop().
  const killOnExit = () => signalGroup(backingPgid, "SIGKILL");
  process.once("exit", killOnExit);

  const backingAgent = new Agent({ keepAlive: true });
  const credentials = { username: "hub-user", accessToken: `dckr_pat_${randomBytes(18).toString("base64url")}` };
  const tamperedBlobs = new Set<string>();
  const modes: HubModes = { ...defaultModes(), tamperedBlobs };
  const requests: UpstreamRequest[] = [];
  const grants = new Map<string, Grant>();
  /** CDN signatures the front issued: sig -> `<repository>@<digest>`. */
  const signatures = new Map<string, string>();
  let remaining = RATE_LIMIT;
  let tokenUrl = "";

  const record = (req: IncomingMessage, kind: UpstreamRequest["kind"], url: URL): UpstreamRequest => {
    const entry: UpstreamRequest = {
      at: Date.now(),
      method: req.method ?? "GET",
      path: decodedPath(url),
      kind,
      status: 0,
      authorized: false,
    };
    requests.push(entry);
    return entry;
  };

  const send = (
    entry: UpstreamRequest,
    res: ServerResponse,
    status: number,
    headers: OutgoingHttpHeaders,
    body?: string,
  ) => {
    if (res.destroyed || res.headersSent) return;
    entry.status = status;
    const payload = body === undefined ? undefined : Buffer.from(body);
    res.writeHead(status, payload ? { ...headers, "content-length": payload.length } : headers);
    res.end(payload);
  };

  const jsonHeaders = { "content-type": "application/json", "docker-distribution-api-version": "registry/2.0" };

  const challenge = (
    entry: UpstreamRequest,
    res: ServerResponse,
    repository: string | null,
    actions: string,
    insufficient: boolean,
  ) => {
    const scope = repository === null ? null : `repository:${repository}:${actions}`;
    const params = [`realm="${tokenUrl}"`, `service="${SERVICE}"`];
    if (scope) params.push(`scope="${scope}"`);
    if (insufficient) params.push(`error="insufficient_scope"`);
    const detail =
      repository === null
        ? null
        : actions.split(",").map((action) => ({ Type: "repository", Class: "", Name: repository, Action: action }));
    send(
      entry,
      res,
      401,
      { ...jsonHeaders, "www-authenticate": `Bearer ${params.join(",")}` },
      JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail }] }),
    );
  };

  const rateHeaders = (left: number): OutgoingHttpHeaders => ({
    "ratelimit-limit": `${RATE_LIMIT};${RATE_WINDOW}`,
    "ratelimit-remaining": `${Math.max(0, left)};${RATE_WINDOW}`,
    "docker-ratelimit-source": "127.0.0.1",
  });

  /** The grant of a presented, unexpired Bearer token, if any. */
  const grantOf = (req: IncomingMessage): Grant | null => {
    const header = req.headers.authorization ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return null;
    const grant = grants.get(m[1]!);
    if (!grant) return null;
    if (grant.expiresAt <= Date.now()) {
      grants.delete(m[1]!);
      return null;
    }
    return grant;
  };

  /**
   * Streams the request to the backing registry and its answer back. `via.path` replaces the
   * request's path (the CDN's URLs are not /v2 paths); `via.cdn` keeps only CDN_HEADERS of the
   * answer and adds a CDN's own.
   */
  const forward = (
    entry: UpstreamRequest,
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    via: { path?: string; cdn?: boolean } = {},
  ) => {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name) || name === "host" || name === "authorization") continue;
      headers[name] = value;
    }
    headers.host = backingHost;
    const isGet = req.method === "GET";
    const upstream = httpRequest(
      {
        host: backingHostname,
        port: backingPort,
        method: req.method,
        path: via.path ?? req.url,
        headers,
        agent: backingAgent,
      },
      (upRes) => {
        const status = upRes.statusCode ?? 502;
        const out: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(upRes.headers)) {
          if (value === undefined || HOP_BY_HOP.has(name) || (via.cdn && !CDN_HEADERS.has(name))) continue;
          out[name] = value;
        }
        if (via.cdn)
          Object.assign(out, {
            "cache-control": "public, max-age=14400",
            "cf-cache-status": "HIT",
            server: "cloudflare",
          });
        if (r.kind === "manifest") {
          if (isGet && status >= 200 && status < 300) remaining = Math.max(0, remaining - 1);
          Object.assign(out, rateHeaders(remaining));
        }
        let transform: Transform | null = null;
        if (
          r.kind === "blob" &&
          isGet &&
          r.digest !== null &&
          modes.tamperedBlobs.has(r.digest) &&
          (status === 200 || status === 206)
        ) {
          const length = Number(upRes.headers["content-length"] ?? "NaN");
          transform = flipByteAt(Number.isFinite(length) && length > 0 ? Math.floor(length / 2) : 0);
        }
        if (res.destroyed) {
          upRes.destroy();
          return;
        }
        entry.status = status;
        res.writeHead(status, out);
        const done = () => {};
        if (transform) pipeline(upRes, transform, res, done);
        else pipeline(upRes, res, done);
      },
    );
    upstream.on("error", (error: Error) => {
      if (!res.headersSent)
        send(
          entry,
          res,
          502,
          jsonHeaders,
          JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: `backing registry: ${error.message}` }] }),
        );
      else res.destroy();
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end();
  };

  const handleFront = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://front");
    const r = url.pathname.startsWith("/v2")
      ? route(url.pathname)
      : { kind: "other" as const, repository: null, digest: null };
    const entry = record(req, r.kind, url);
    req.resume();
    if (!url.pathname.startsWith("/v2")) {
      send(entry, res, 404, { "content-type": "text/plain" }, "404 page not found\n");
      return;
    }
    if (modes.failAll !== null) {
      send(
        entry,
        res,
        modes.failAll,
        jsonHeaders,
        JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "service unavailable" }] }),
      );
      return;
    }
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      // Pushes need a pull,push token, which this upstream never grants (like someone else's Hub namespace).
      if (r.repository !== null) challenge(entry, res, r.repository, "pull,push", grantOf(req) !== null);
      else
        send(
          entry,
          res,
          405,
          jsonHeaders,
          JSON.stringify({ errors: [{ code: "UNSUPPORTED", message: "The operation is unsupported." }] }),
        );
      return;
    }
    const grant = grantOf(req);
    if (r.kind === "ping") {
      if (!grant) {
        challenge(entry, res, null, "pull", false);
        return;
      }
    } else if (r.repository === null) {
      // The catalog (and anything else outside a repository) is never granted on Hub.
      if (url.pathname === "/v2/_catalog") {
        send(
          entry,
          res,
          401,
          {
            ...jsonHeaders,
            "www-authenticate": `Bearer realm="${tokenUrl}",service="${SERVICE}",scope="registry:catalog:*"`,
          },
          JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: null }] }),
        );
      } else send(entry, res, 404, { "content-type": "text/plain" }, "404 page not found\n");
      return;
    } else if (!grant || !grant.repositories.has(r.repository)) {
      challenge(entry, res, r.repository, "pull", grant !== null);
      return;
    }
    entry.authorized = true;

    if (r.kind === "manifest") {
      const limited = modes.rateLimited || remaining <= 0;
      if (limited && (method === "GET" || modes.rateLimitHeads)) {
        send(entry, res, 429, { ...jsonHeaders, ...rateHeaders(0) }, method === "HEAD" ? undefined : TOO_MANY_REQUESTS);
        return;
      }
    }
    if (r.kind === "blob" && method === "GET" && modes.blobRedirect && r.repository !== null && r.digest !== null) {
      const { repository, digest } = r;
      // Like Hub: a blob it has is sent to the CDN; one it does not have is a 404 from the front.
      const status = await backingHeadStatus(`/v2/${repository}/blobs/${digest}`);
      if (res.destroyed) return;
      if (status === 200) {
        const sig = randomBytes(16).toString("hex");
        signatures.set(sig, `${repository}@${digest}`);
        const location = `http://127.0.0.1:${cdnPort}/blobs/${digest}?repo=${repository}&sig=${sig}`;
        send(entry, res, 307, { "docker-distribution-api-version": "registry/2.0", location, "content-length": 0 });
        return;
      }
    }
    if (r.kind === "blob" && method === "GET" && modes.blobDelayMs > 0) {
      await sleep(modes.blobDelayMs);
      if (res.destroyed) return;
    }
    forward(entry, req, res, r);
  };

  /** Status of a HEAD of `path` at the backing registry (0 when it could not be asked). */
  const backingHeadStatus = (path: string) =>
    new Promise<number>((resolvePromise) => {
      const head = httpRequest(
        {
          host: backingHostname,
          port: backingPort,
          method: "HEAD",
          path,
          headers: { host: backingHost },
          agent: backingAgent,
        },
        (upRes) => {
          upRes.resume();
          resolvePromise(upRes.statusCode ?? 0);
        },
      );
      head.on("error", () => resolvePromise(0));
      head.end();
    });

  /**
   * The blob CDN (production.cloudflare.docker.com): `/blobs/<digest>?repo=<name>&sig=<sig>`,
   * answered only for a signature the front issued for that blob, never asking for credentials.
   */
  const handleCdn = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://cdn");
    const entry = record(req, "cdn", url);
    entry.authorized = req.headers.authorization !== undefined;
    req.resume();
    const m = /^\/blobs\/([^/]+)$/.exec(url.pathname);
    const digest = m ? decodeURIComponent(m[1]!) : null;
    const repository = url.searchParams.get("repo");
    if (digest === null || repository === null || repository === "") {
      send(entry, res, 404, { "content-type": "text/plain" }, "not found\n");
      return;
    }
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      send(entry, res, 405, { "content-type": "text/plain" }, "method not allowed\n");
      return;
    }
    const sig = url.searchParams.get("sig");
    if (sig === null || signatures.get(sig) !== `${repository}@${digest}`) {
      send(entry, res, 403, { "content-type": "text/plain" }, "signature does not match\n");
      return;
    }
    if (method === "GET" && modes.blobDelayMs > 0) {
      await sleep(modes.blobDelayMs);
      if (res.destroyed) return;
    }
    forward(
      entry,
      req,
      res,
      { kind: "blob", repository, digest },
      { path: `/v2/${repository}/blobs/${digest}`, cdn: true },
    );
  };

  const issueToken = (repositories: Set<string>): string => {
    const token = randomBytes(24).toString("base64url");
    grants.set(token, { repositories, expiresAt: Date.now() + TOKEN_TTL_SECONDS * 1000 });
    return token;
  };

  /** Repositories granted pull by `scope` values (repeated params; each may hold several space-separated scopes). */
  const pullRepositories = (scopes: string[]): Set<string> => {
    const repositories = new Set<string>();
    for (const scope of scopes.flatMap((s) => s.split(" ")).filter((s) => s !== "")) {
      const m = /^repository(?:\([^)]*\))?:(.+):([^:]+)$/.exec(scope);
      if (!m) continue;
      const actions = m[2]!.split(",");
      if (actions.includes("pull") || actions.includes("*")) repositories.add(m[1]!);
    }
    return repositories;
  };

  const tokenResponse = (entry: UpstreamRequest, res: ServerResponse, scopes: string[]) => {
    const token = issueToken(pullRepositories(scopes));
    send(
      entry,
      res,
      200,
      { "content-type": "application/json" },
      JSON.stringify({
        token,
        access_token: token,
        expires_in: TOKEN_TTL_SECONDS,
        issued_at: new Date().toISOString(),
      }),
    );
  };

  const badCredentials = (entry: UpstreamRequest, res: ServerResponse) =>
    send(
      entry,
      res,
      401,
      { "content-type": "application/json", "www-authenticate": `Basic realm="${SERVICE}"` },
      JSON.stringify({ details: "incorrect username or password" }),
    );

  const handleToken = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://token");
    const isToken = url.pathname === "/token";
    const entry = record(req, isToken ? "token" : "other", url);
    if (!isToken) {
      req.resume();
      send(entry, res, 404, { "content-type": "text/plain" }, "404 page not found\n");
      return;
    }
    if (req.method === "GET") {
      req.resume();
      const authorization = req.headers.authorization;
      if (authorization !== undefined) {
        const m = /^Basic\s+(\S+)$/i.exec(authorization);
        const decoded = m ? Buffer.from(m[1]!, "base64").toString("utf8") : "";
        if (decoded !== `${credentials.username}:${credentials.accessToken}`) {
          badCredentials(entry, res);
          return;
        }
        entry.authorized = true;
      }
      tokenResponse(entry, res, url.searchParams.getAll("scope"));
      return;
    }
    if (req.method === "POST") {
      // The OAuth2 form (docker login's grant_type=password), for clients that prefer it.
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
        if (
          form.get("grant_type") !== "password" ||
          form.get("username") !== credentials.username ||
          form.get("password") !== credentials.accessToken
        ) {
          badCredentials(entry, res);
          return;
        }
        entry.authorized = true;
        tokenResponse(entry, res, form.getAll("scope"));
      });
      return;
    }
    req.resume();
    send(entry, res, 405, { "content-type": "text/plain" }, "method not allowed\n");
  };

  const front = trackedServer((req, res) => {
    handleFront(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`harness error: ${(error as Error).message}\n`);
      } else res.destroy();
    });
  });
  const tokenServer = trackedServer(handleToken);
  const cdn = trackedServer((req, res) => {
    handleCdn(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`harness error: ${(error as Error).message}\n`);
      } else res.destroy();
    });
  });

  let frontPort = 0;
  let tokenPort = 0;
  let cdnPort = 0;
  let paused = false;
  let stopped = false;

  const pause = async () => {
    if (paused) return;
    paused = true;
    await Promise.all([front.close(), tokenServer.close(), cdn.close()]);
    // Let clients in this process (fetch's pool) see their kept-alive sockets close, so their
    // next request dials afresh and is refused instead of failing on a dead socket.
    await sleep(20);
  };
  const resume = async () => {
    if (stopped) throw new Error("the Docker Hub upstream was stopped");
    if (!paused) return;
    await Promise.all([
      listen(front.server, frontPort),
      listen(tokenServer.server, tokenPort),
      listen(cdn.server, cdnPort),
    ]);
    paused = false;
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await pause();
    backingAgent.destroy();
    await stopGroup(backingPgid, STOP_GRACE_MS);
    process.removeListener("exit", killOnExit);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    frontPort = await listen(front.server, 0);
    tokenPort = await listen(tokenServer.server, 0);
    cdnPort = await listen(cdn.server, 0);
  } catch (error) {
    await stop();
    throw error;
  }
  tokenUrl = `http://127.0.0.1:${tokenPort}/token`;
  const host = `127.0.0.1:${frontPort}`;

  return {
    host,
    url: `http://${host}`,
    tokenUrl,
    cdnUrl: `http://127.0.0.1:${cdnPort}`,
    modes,
    requests,
    credentials,
    backingUrl: `http://${backingHost}`,
    logPath,
    count(filter) {
      return requests.filter(
        (r) =>
          (filter.method === undefined || r.method === filter.method) &&
          (filter.kind === undefined || r.kind === filter.kind) &&
          (filter.pathIncludes === undefined || r.path.includes(filter.pathIncludes)),
      ).length;
    },
    reset() {
      requests.length = 0;
      const { tamperedBlobs: current } = modes;
      Object.assign(modes, defaultModes());
      current.clear();
      modes.tamperedBlobs = current;
      remaining = RATE_LIMIT;
    },
    async seed(sourceRef, destination, seedOptions = {}) {
      if (stopped) throw new Error("the Docker Hub upstream was stopped");
      const target = destination.startsWith("docker://") ? destination.slice("docker://".length) : destination;
      const args = [
        "--policy",
        policyPath,
        "--registries-conf",
        registriesConfPath,
        "--tmpdir",
        dir,
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
      ];
      if (seedOptions.all) args.push("--all");
      args.push(sourceRef, `docker://${backingHost}/${target}`);
      await runCommand("skopeo", args, { ...process.env, XDG_DATA_HOME: dir, REGISTRY_AUTH_FILE: authFile }, 120_000);
    },
    pause,
    resume,
    stop,
  };
}
