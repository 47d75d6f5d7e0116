#!/usr/bin/env node
// `npm start`: serves the registry on http://localhost:8787 (or $PORT) in workerd, with local
// R2, D1 and Durable Objects kept under .wrangler/state (or $REGISTRY_STATE_DIR).
//
//  1. wrangler applies the D1 migrations to the local database and bundles the Worker exactly
//     as `wrangler deploy` would (dry run, nothing leaves the machine);
//  2. Miniflare runs the bundle with the bindings wrangler reads from wrangler.toml.
// Miniflare is driven directly rather than through `wrangler dev`: wrangler dev's reload
// proxy adds a hop that halves blob download speed and answered 503 "worker restarted
// mid-request" to uploads that followed a long PATCH. A small front refuses TLS at once (see
// tls-refusing-front.mjs) so Go clients that try HTTPS first do not stall.
// No telemetry and no Request.cf look-up.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { ensureDevVars, SECRET_NAMES } from "./dev-vars.mjs";
import { freePort, startTlsRefusingFront } from "./tls-refusing-front.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? "8787");
const host = process.env.HOST ?? "127.0.0.1";
const stateDir = resolve(root, process.env.REGISTRY_STATE_DIR ?? ".wrangler/state");
const bundleDir = join(stateDir, "bundle");
const wrangler = resolve(root, "node_modules/wrangler/bin/wrangler.js");

process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
const env = { ...process.env, CI: "true", WRANGLER_LOG_PATH: join(stateDir, "logs") };

function wranglerStep(description, args) {
  const result = spawnSync(process.execPath, [wrangler, ...args], { cwd: root, env, encoding: "utf8" });
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? "");
    process.stderr.write(result.stderr ?? "");
    console.error(`${description} failed.`);
    process.exit(result.status ?? 1);
  }
  return result.stdout ?? "";
}

mkdirSync(stateDir, { recursive: true });
const migrated = wranglerStep("Applying the local D1 migrations", [
  "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir,
]);
const applied = new Set(migrated.match(/\d{4}_[\w-]+\.sql/g) ?? []).size;
console.log(applied > 0 ? `Applied ${applied} D1 migration(s).` : "D1 schema is up to date.");
wranglerStep("Bundling the Worker", ["deploy", "--dry-run", "--outdir", bundleDir]);

const devVarsPath = join(root, ".dev.vars");
const secretsFromEnvironment = ["REGISTRY_ADMIN_ACCESS_KEY_ID", "REGISTRY_ADMIN_SECRET_ACCESS_KEY", "REGISTRY_TOKEN_SIGNING_KEY"].every(
  (name) => process.env[name],
);
if (!secretsFromEnvironment) {
  if (await ensureDevVars(devVarsPath)) {
    console.log(`Wrote ${devVarsPath}: a bootstrap admin access key, a token signing key and a secrets key.`);
  }
  console.log(`Admin credentials: REGISTRY_ADMIN_ACCESS_KEY_ID / REGISTRY_ADMIN_SECRET_ACCESS_KEY in ${devVarsPath}`);
}

const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"));
// Settings given in the environment win over .dev.vars (tests start registries this way).
workerOptions.bindings = { ...workerOptions.bindings };
for (const name of SECRET_NAMES) {
  if (process.env[name] !== undefined) workerOptions.bindings[name] = process.env[name];
}
const internalPort = await freePort();
const miniflare = new Miniflare({
  ...workerOptions,
  modules: [{ type: "ESModule", path: join(bundleDir, "index.js") }],
  modulesRoot: bundleDir,
  defaultPersistRoot: join(stateDir, "v3"),
  host: "127.0.0.1",
  port: internalPort,
  log: new Log(LogLevel.INFO),
});
await miniflare.ready;
const front = await startTlsRefusingFront({ host, port, targetPort: internalPort });
console.log(`Registry ready on http://localhost:${port} (state in ${stateDir})`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await front.close();
  await miniflare.dispose();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
