#!/usr/bin/env node
// `npm start`: applies the local D1 migrations, then serves the registry with `wrangler dev`
// on http://localhost:8787 (or $PORT) with local R2, D1 and Durable Objects, keeping state
// under .wrangler/state (or $REGISTRY_STATE_DIR). No telemetry, no Request.cf look-up.
// wrangler dev listens on an internal port behind a front that refuses TLS at once (see
// tls-refusing-front.mjs), so Go clients that try HTTPS first do not stall.
import { spawn, spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startTlsRefusingFront } from "./tls-refusing-front.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const port = process.env.PORT ?? "8787";
const host = process.env.HOST ?? "127.0.0.1";
const stateDir = resolve(root, process.env.REGISTRY_STATE_DIR ?? ".wrangler/state");
const wrangler = resolve(root, "node_modules/wrangler/bin/wrangler.js");
const extraArgs = process.argv.slice(2);

const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // Answers wrangler's prompts with their defaults and keeps its output plain.
  CI: "true",
  WRANGLER_LOG_PATH: resolve(stateDir, "..", "logs"),
};

const migrate = spawnSync(
  process.execPath,
  [wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir],
  { cwd: root, env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" },
);
if (migrate.status !== 0) {
  process.stdout.write(migrate.stdout ?? "");
  console.error("Applying the local D1 migrations failed.");
  process.exit(migrate.status ?? 1);
}
const applied = new Set((migrate.stdout ?? "").match(/\d{4}_[\w-]+\.sql/g) ?? []).size;
console.log(applied > 0 ? `Applied ${applied} D1 migration(s).` : "D1 schema is up to date.");

const internalPort = await freePort();
const dev = spawn(
  process.execPath,
  [
    wrangler,
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(internalPort),
    "--persist-to",
    stateDir,
    "--show-interactive-dev-session=false",
    ...extraArgs,
  ],
  { cwd: root, env, stdio: "inherit" },
);
await startTlsRefusingFront({ host, port: Number(port), targetPort: internalPort });
console.log(`Registry on http://localhost:${port} (wrangler dev on internal port ${internalPort}; state in ${stateDir})`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => dev.kill(signal));
}
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
