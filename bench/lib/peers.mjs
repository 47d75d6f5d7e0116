// The servers under test, each started on 127.0.0.1 with fresh storage in its own temp dir:
// this registry (`node scripts/start.mjs`, authentication on, bench mode), the CNCF
// distribution registry (Debian's docker-registry) and nginx serving a static file.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newAdminKey, newSigningKeyJwk } from "../../scripts/dev-vars.mjs";
import { freePort, sleep, startGroup, stopGroup } from "./proc.mjs";

async function waitFor(url, okStatuses, logPath, { timeoutMs = 120_000, headers } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { headers, method: "GET", signal: AbortSignal.timeout(5000) });
      await response.arrayBuffer().catch(() => {});
      if (okStatuses.includes(response.status)) return;
    } catch {}
    await sleep(300);
  }
  let log = "";
  try {
    log = readFileSync(logPath, "utf8").slice(-4000);
  } catch {}
  throw new Error(`${url} did not come up within ${timeoutMs / 1000} s:\n${log}`);
}

function peer(fields, child, dir, keepDir) {
  let stopped = false;
  return {
    ...fields,
    pgid: child.pid,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopGroup(child.pid);
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** This registry, started the way users start it, with generated admin and signing keys. */
export async function startEdgeRegistry({ root, dir, keep, env = {} }) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const admin = newAdminKey();
  const basic = Buffer.from(`${admin.id}:${admin.secret}`).toString("base64");
  const authFile = join(dir, "auth.json");
  writeFileSync(authFile, JSON.stringify({ auths: { [host]: { auth: basic } } }), { mode: 0o600 });
  const logPath = join(dir, "server.log");
  const stateDir = join(dir, "state");
  const child = startGroup(process.execPath, [join(root, "scripts/start.mjs")], {
    cwd: root,
    logPath,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      REGISTRY_STATE_DIR: stateDir,
      REGISTRY_ADMIN_ACCESS_KEY_ID: admin.id,
      REGISTRY_ADMIN_SECRET_ACCESS_KEY: admin.secret,
      REGISTRY_TOKEN_SIGNING_KEY: JSON.stringify(await newSigningKeyJwk()),
      REGISTRY_BENCH_MODE: "1",
      ...env,
    },
  });
  const p = peer(
    {
      name: "edge-registry",
      url: `http://${host}`,
      host,
      authFile,
      basic,
      logPath,
      stateDir,
      auth: true,
      accessKeyId: admin.id,
      secretAccessKey: admin.secret,
    },
    child,
    dir,
    keep,
  );
  try {
    await waitFor(`${p.url}/v2/`, [401], logPath, { timeoutMs: 180_000 });
    await waitFor(`${p.url}/v2/`, [200], logPath, { headers: { Authorization: `Basic ${basic}` } });
  } catch (error) {
    await p.stop();
    throw error;
  }
  return p;
}

/** The CNCF distribution registry with filesystem storage, no auth, deletes enabled. */
export async function startDistribution({ dir, keep }) {
  mkdirSync(join(dir, "data"), { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      // Logging as distribution ships it (info, with the access log), as this registry logs
      // every request too.
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "  cache:",
      "    blobdescriptor: inmemory",
      "http:",
      `  addr: ${host}`,
      `  secret: ${Math.random().toString(36).slice(2)}${Date.now()}`,
      "",
    ].join("\n"),
  );
  const authFile = join(dir, "auth.json");
  writeFileSync(authFile, JSON.stringify({ auths: {} }));
  const logPath = join(dir, "server.log");
  const child = startGroup("/usr/bin/docker-registry", ["serve", config], { cwd: dir, logPath, env: process.env });
  const p = peer(
    { name: "distribution", url: `http://${host}`, host, authFile, logPath, auth: false },
    child,
    dir,
    keep,
  );
  try {
    await waitFor(`${p.url}/v2/`, [200], logPath);
  } catch (error) {
    await p.stop();
    throw error;
  }
  return p;
}

/** nginx serving `file` at /blob (sendfile on), as the current user, everything in `dir`. */
export async function startNginx({ dir, file, keep }) {
  mkdirSync(join(dir, "tmp"), { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const conf = join(dir, "nginx.conf");
  const asRoot = process.getuid?.() === 0;
  writeFileSync(
    conf,
    [
      // Workers keep the master's user (root would otherwise hand them to nobody).
      asRoot ? "user root root;" : "",
      "daemon off;",
      "master_process on;",
      "worker_processes auto;",
      `pid ${join(dir, "nginx.pid")};`,
      `error_log ${join(dir, "error.log")} warn;`,
      "events { worker_connections 1024; }",
      "http {",
      `  access_log ${join(dir, "access.log")};`,
      `  client_body_temp_path ${join(dir, "tmp", "body")};`,
      `  proxy_temp_path ${join(dir, "tmp", "proxy")};`,
      `  fastcgi_temp_path ${join(dir, "tmp", "fastcgi")};`,
      `  uwsgi_temp_path ${join(dir, "tmp", "uwsgi")};`,
      `  scgi_temp_path ${join(dir, "tmp", "scgi")};`,
      "  sendfile on;",
      "  tcp_nopush on;",
      "  keepalive_timeout 65;",
      "  default_type application/octet-stream;",
      "  server {",
      `    listen ${host};`,
      `    location = /blob { alias ${file}; }`,
      "  }",
      "}",
      "",
    ].join("\n"),
  );
  const logPath = join(dir, "stdout.log");
  const child = startGroup("/usr/sbin/nginx", ["-p", dir, "-c", conf, "-e", join(dir, "error.log")], {
    cwd: dir,
    logPath,
    env: process.env,
  });
  const p = peer({ name: "nginx", url: `http://${host}`, host, logPath: join(dir, "error.log") }, child, dir, keep);
  try {
    await waitFor(`${p.url}/nonexistent`, [404], p.logPath);
  } catch (error) {
    await p.stop();
    throw error;
  }
  return p;
}
