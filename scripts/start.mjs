#!/usr/bin/env node
// `npm start [-- --port N --host ADDRESS]`: serves the registry on http://localhost:8787 (or
// the port asked for) in workerd, with local R2, D1 and Durable Objects kept under
// .wrangler/state (or $REGISTRY_STATE_DIR), and runs wrangler.toml's cron triggers on their
// schedule as Cloudflare would (scripts/scheduler.mjs).
//
//  0. checks, before any slow step, that the port is free and that the secrets in .dev.vars
//     (written or completed here, scripts/dev-vars.mjs) and the environment are usable;
//  1. wrangler applies the D1 migrations to the local database and bundles the Worker exactly
//     as `wrangler deploy` would (dry run, nothing leaves the machine);
//  2. Miniflare runs the bundle with the bindings wrangler reads from wrangler.toml.
// Miniflare is driven directly rather than through `wrangler dev`: wrangler dev's reload
// proxy adds a hop that halves blob download speed and answered 503 "worker restarted
// mid-request" to uploads that followed a long PATCH. A small front refuses TLS at once (see
// tls-refusing-front.mjs) so Go clients that try HTTPS first do not stall.
// No telemetry and no Request.cf look-up. Every failure is one line on stderr and exit 1.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import net from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CronError } from "./cron.mjs";
import { checkSettings, ensureDevVars, SECRET_NAMES } from "./dev-vars.mjs";
import { answersWithin, READINESS_PATH, READY_SECONDS } from "./readiness.mjs";
import { startScheduler } from "./scheduler.mjs";
import { freePort, startTlsRefusingFront } from "./tls-refusing-front.mjs";

const USAGE = `usage: npm start [-- [--port N] [--host ADDRESS]]

Runs the registry locally (workerd, with local D1, R2 and Durable Objects) and its cron jobs.
  --port N, --port=N          port to listen on (default: $PORT, else 8787)
  --host ADDRESS              address to listen on (default: $HOST, else 127.0.0.1;
                              0.0.0.0 for every interface)
  -h, --help                  this help
Environment: PORT, HOST, REGISTRY_STATE_DIR (default .wrangler/state), REGISTRY_DEV_VARS
(default .dev.vars), the secrets of .dev.vars (the environment wins), and, as a testing aid,
REGISTRY_CRON_INTERVAL_SECONDS=N to run the cron jobs every N seconds. See README.md.`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** One line on stderr, exit 1: the start script never ends in a stack trace. */
function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function parsePort(text, source) {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535)
    fail(`${source} must be a port number from 1 to 65535, not "${text}"`);
  return Number(text);
}

/** --port N, --port=N, --host A, --host=A, -h/--help; anything else is refused with the usage. */
function parseArguments(argv) {
  const options = {};
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === "-h" || arg === "--help" || arg === "help") {
      console.log(USAGE);
      process.exit(0);
    }
    const match = /^--(port|host)(?:=(.*))?$/.exec(arg);
    if (!match) {
      console.error(`npm start: unknown argument "${arg}"\n\n${USAGE}`);
      process.exit(2);
    }
    const value = match[2] ?? argv[++index];
    if (value === undefined || value === "") {
      console.error(`npm start: --${match[1]} needs a value\n\n${USAGE}`);
      process.exit(2);
    }
    options[match[1]] = value;
  }
  return options;
}

/** Resolves when host:port can be listened on; fails in one line when it cannot. */
function requirePortFree(host, port) {
  return new Promise((resolvePromise) => {
    const probe = net.createServer();
    probe.once("error", (error) => {
      const where = `${host}:${port}`;
      if (error.code === "EADDRINUSE")
        fail(
          `port ${port} is already in use on ${host} (another registry?): stop it, or choose another port with --port N`,
        );
      if (error.code === "EACCES") fail(`not allowed to listen on ${where}: choose a port above 1023 with --port N`);
      if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND")
        fail(`cannot listen on ${where}: ${host} is not an address of this machine (--host)`);
      fail(`cannot listen on ${where}: ${error.message}`);
    });
    probe.listen(port, host, () => probe.close(() => resolvePromise()));
  });
}

// wrangler and Miniflare need Node 22.12 or later. `npm start` runs the Node that package.json's
// optionalDependencies put in node_modules/.bin on Linux x64/arm64; a script started with the
// machine's own `node` may be older, and would only fail later, inside wrangler.
const [nodeMajor, nodeMinor] = process.versions.node.split(".").map(Number);
if (nodeMajor < 22 || (nodeMajor === 22 && nodeMinor < 12)) {
  fail(
    `needs Node.js 22.12 or later, and this is ${process.version} (${process.execPath}): run it as \`npm start\` (or \`npm exec -- node ...\` for a script that starts it), which uses node_modules/.bin/node on Linux, or install Node 22`,
  );
}

const options = parseArguments(process.argv.slice(2));
const port = parsePort(options.port ?? process.env.PORT ?? "8787", options.port !== undefined ? "--port" : "PORT");
const host = options.host ?? process.env.HOST ?? "127.0.0.1";
const cronInterval = process.env.REGISTRY_CRON_INTERVAL_SECONDS;
if (cronInterval !== undefined && !(/^\d+$/.test(cronInterval) && Number(cronInterval) > 0)) {
  fail(`REGISTRY_CRON_INTERVAL_SECONDS must be a whole number of seconds above 0, not "${cronInterval}"`);
}
const stateDir = resolve(root, process.env.REGISTRY_STATE_DIR ?? ".wrangler/state");
const devVarsPath = resolve(root, process.env.REGISTRY_DEV_VARS ?? ".dev.vars");
const bundleDir = join(stateDir, "bundle");
const wrangler = resolve(root, "node_modules/wrangler/bin/wrangler.js");

await requirePortFree(host, port);

process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
const env = { ...process.env, CI: "true", WRANGLER_LOG_PATH: join(stateDir, "logs") };

// Secrets: the environment wins over .dev.vars; .dev.vars gets whatever neither has, unless
// the environment holds the admin key and the signing key (tests and benchmarks start
// registries that way, and their runs must not write the developer's file).
const fromEnvironment = new Set(SECRET_NAMES.filter((name) => process.env[name] !== undefined));
const configuredByEnvironment = [
  "REGISTRY_ADMIN_ACCESS_KEY_ID",
  "REGISTRY_ADMIN_SECRET_ACCESS_KEY",
  "REGISTRY_TOKEN_SIGNING_KEY",
].every((name) => fromEnvironment.has(name));
if (!configuredByEnvironment) {
  const added = await ensureDevVars(devVarsPath, fromEnvironment).catch((error) =>
    fail(`cannot write ${devVarsPath}: ${error.message}`),
  );
  if (added.length > 0)
    console.log(
      `Wrote ${added.length > 1 ? `${added.slice(0, -1).join(", ")} and ${added.at(-1)}` : added[0]} to ${devVarsPath}.`,
    );
}

// Imported only now: loading them takes seconds, and the checks above should answer at once.
// wrangler's logger would announce which secrets file it read: the line above says it.
process.env.WRANGLER_LOG ??= "warn";
const { convertV4MiniflareOptions, Log, LogLevel, Miniflare } = await import("miniflare");
const { unstable_getMiniflareWorkerOptions, unstable_readConfig } = await import("wrangler");
const config = unstable_readConfig({ config: join(root, "wrangler.toml") });
// envFiles: exactly this file is read for secrets (not also .env, and not .dev.vars when
// REGISTRY_DEV_VARS names another file).
const { workerOptions } = unstable_getMiniflareWorkerOptions(config, undefined, { envFiles: [devVarsPath] });
workerOptions.bindings = { ...workerOptions.bindings };
for (const name of fromEnvironment) workerOptions.bindings[name] = process.env[name];
// A testing aid (bench/, with REGISTRY_SIMULATED_GEOGRAPHY=1 in the environment): the replica
// buckets that REPLICA_REGIONS names, and a second local database standing in for D1's read
// replica (src/bench/simulated-geography.ts), are bound beside wrangler.toml's.
if (process.env.REGISTRY_SIMULATED_GEOGRAPHY === "1") {
  const replicaBindings = (process.env.REPLICA_REGIONS ?? "")
    .split(",")
    .map((entry) => entry.split("=")[1]?.trim())
    .filter((binding) => binding);
  workerOptions.r2Buckets = {
    ...workerOptions.r2Buckets,
    ...Object.fromEntries(replicaBindings.map((binding) => [binding, { id: `simulated-${binding.toLowerCase()}` }])),
  };
  workerOptions.d1Databases = { ...workerOptions.d1Databases, SIMULATED_D1_REPLICA: { id: "simulated-d1-replica" } };
}
const secretValues = Object.fromEntries(
  SECRET_NAMES.map((name) => [
    name,
    typeof workerOptions.bindings[name] === "string" ? workerOptions.bindings[name] : undefined,
  ]),
);
const problems = await checkSettings(secretValues);
if (problems.length > 0) {
  for (const { name, message } of problems) {
    const where = fromEnvironment.has(name)
      ? "set in the environment"
      : `in ${devVarsPath}: delete the line and npm start writes a new one`;
    console.error(`npm start: ${message} (${where})`);
  }
  process.exit(1);
}
if (!fromEnvironment.has("REGISTRY_ADMIN_ACCESS_KEY_ID")) {
  console.log(`Admin credentials: REGISTRY_ADMIN_ACCESS_KEY_ID / REGISTRY_ADMIN_SECRET_ACCESS_KEY in ${devVarsPath}`);
}

function wranglerStep(description, args) {
  const result = spawnSync(process.execPath, [wrangler, ...args], { cwd: root, env, encoding: "utf8" });
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? "");
    process.stderr.write(result.stderr ?? "");
    fail(`${description} failed (wrangler's output is above).`);
  }
  return result.stdout ?? "";
}

mkdirSync(stateDir, { recursive: true });
const migrated = wranglerStep("Applying the local D1 migrations", [
  "d1",
  "migrations",
  "apply",
  "DB",
  "--local",
  "--persist-to",
  stateDir,
]);
const applied = new Set(migrated.match(/\d{4}_[\w-]+\.sql/g) ?? []).size;
console.log(applied > 0 ? `Applied ${applied} D1 migration(s).` : "D1 schema is up to date.");
wranglerStep("Bundling the Worker", ["deploy", "--dry-run", "--outdir", bundleDir]);

/** Miniflare's log without its "Ready on <internal address>" lines: the front's address is the one to use. */
class RegistryLog extends Log {
  logReady() {}
  logWithLevel(level, message) {
    // The readiness probe's request line (below) is the start script's business, not a request.
    if (!message.includes(READINESS_PATH)) super.logWithLevel(level, message);
  }
}

const internalPort = await freePort();
// wrangler hands over Miniflare 4-shaped worker options; Miniflare 5 takes them through its
// converter, as wrangler itself does. modulesRules only matter when Miniflare collects modules
// itself: the bundle is named explicitly here, and the converter refuses them.
const bundleOptions = { ...workerOptions };
delete bundleOptions.modulesRules;
const miniflare = new Miniflare(
  convertV4MiniflareOptions({
    ...bundleOptions,
    modules: [{ type: "ESModule", path: join(bundleDir, "index.js") }],
    modulesRoot: bundleDir,
    // The layout wrangler uses under --persist-to, so the migrations applied above are the ones served.
    resourcePersistencePath: join(stateDir, "v3"),
    host: "127.0.0.1",
    port: internalPort,
    log: new RegistryLog(LogLevel.INFO),
  }),
);
// Ready means answering a request, not only listening (scripts/readiness.mjs). Exiting stops
// workerd (Miniflare's exit hook kills it).
let answered;
try {
  answered = await answersWithin(
    miniflare.ready,
    `http://127.0.0.1:${internalPort}${READINESS_PATH}`,
    READY_SECONDS * 1000,
  );
} catch (error) {
  fail(`the Worker did not start: ${error instanceof Error ? error.message : String(error)}`);
}
if (!answered) {
  fail(
    `the Worker did not answer a request within ${READY_SECONDS} s of starting, so workerd was stopped. ` +
      `Start again; if it happens again, keep a copy of ${stateDir} and see bench/findings/workerd-restart-spin.md`,
  );
}
let front;
try {
  front = await startTlsRefusingFront({ host, port, targetPort: internalPort });
} catch (error) {
  await miniflare.dispose();
  fail(
    `cannot listen on ${host}:${port}: ${error instanceof Error ? error.message.replace(/^Error: /, "") : String(error)}`,
  );
}
const shownHost = ["127.0.0.1", "localhost", "0.0.0.0", "::", "::1"].includes(host)
  ? "localhost"
  : host.includes(":")
    ? `[${host}]`
    : host;
console.log(`Registry ready on http://${shownHost}:${port} (state in ${stateDir})`);

const crons = config.triggers?.crons ?? [];
let scheduler = null;
try {
  scheduler = startScheduler({
    crons,
    intervalSeconds: cronInterval === undefined ? null : Number(cronInterval),
    log: (line) => console.log(line),
    fire: async (cron, scheduledTime) => {
      const worker = await miniflare.getWorker();
      const result = await worker.scheduled({ cron, scheduledTime: new Date(scheduledTime) });
      return result.outcome;
    },
  });
} catch (error) {
  if (!(error instanceof CronError)) throw error;
  console.error(`npm start: ${error.message} (wrangler.toml [triggers] crons); the cron jobs will not run`);
}
if (scheduler && crons.length > 0) {
  const every = cronInterval === undefined ? "" : ` (every ${cronInterval} s: REGISTRY_CRON_INTERVAL_SECONDS)`;
  const nextAt = (cron) =>
    scheduler.next(cron) === null ? "never" : `next at ${new Date(scheduler.next(cron)).toISOString()}`;
  console.log(
    `Cron jobs: ${crons.map((cron) => `"${cron}" ${nextAt(cron)}`).join(", ")}${every}; \`npm run -s admin -- run-jobs\` runs them now.`,
  );
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  scheduler?.stop();
  await front.close();
  await miniflare.dispose();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
