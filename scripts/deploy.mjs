#!/usr/bin/env node
// `npm run deploy`: puts the registry on Cloudflare, idempotently, with the pinned wrangler.
// Each run checks before it acts, so it is the first deploy and every upgrade alike:
//  1. D1: the database wrangler.toml names is created when the account lacks it, and its id
//     written into wrangler.toml in place of the placeholder;
//  2. R2: the bucket is created when missing, and each replica bucket of REPLICA_REGIONS
//     with the R2 location hint nearest its region; then the queues wrangler.toml names;
//  3. the D1 migrations not yet applied are applied to the remote database;
//  4. the secrets the Worker lacks (bootstrap admin key, token signing key, secrets key) are
//     generated and uploaded with the deploy (--secrets-file); existing ones are never replaced;
//  5. `wrangler deploy`, then the URL and what to do next.
// The decisions are pure functions (scripts/deploy-plan.mjs). --dry-run runs nothing and
// prints the commands in order. Credentials are wrangler's: `npx wrangler login`, or
// CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID when the token sees several accounts).
// DEPLOY_WRANGLER names another wrangler entry point (tests use a stand-in for Cloudflare).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  bucketNames,
  databaseDecision,
  deployedUrl,
  PLACEHOLDER_DATABASE_ID,
  queuesOf,
  replicaBucketsOf,
  resourcesOf,
  secretGroups,
  withDatabaseId,
} from "./deploy-plan.mjs";
import { generateSecrets } from "./dev-vars.mjs";

const USAGE = `usage: npm run deploy [-- --dry-run] [--config PATH]
       npm run -s deploy -- --print-secrets

Creates what is missing (D1 database, R2 bucket, secrets), applies the D1 migrations and
deploys the Worker, with wrangler. Log in first: \`npx wrangler login\`, or set
CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID).
  --dry-run          print the commands it would run, run nothing
  --config PATH      the wrangler configuration (default: wrangler.toml)
  --print-secrets    print freshly generated secrets as JSON (for \`wrangler secret bulk\`)
  -h, --help         this help`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function fail(message) {
  console.error(`deploy: ${message}`);
  process.exit(1);
}

const options = { dryRun: false, config: join(root, "wrangler.toml"), printSecrets: false };
const argv = process.argv.slice(2);
for (let index = 0; index < argv.length; index++) {
  const arg = argv[index];
  if (arg === "-h" || arg === "--help") {
    console.log(USAGE);
    process.exit(0);
  } else if (arg === "--dry-run") options.dryRun = true;
  else if (arg === "--print-secrets") options.printSecrets = true;
  else if (arg === "--config" || arg.startsWith("--config=")) {
    const value = arg === "--config" ? argv[++index] : arg.slice("--config=".length);
    if (!value) fail("--config needs a path");
    options.config = resolve(value);
  } else {
    console.error(`deploy: unknown argument "${arg}"\n\n${USAGE}`);
    process.exit(2);
  }
}

if (options.printSecrets) {
  console.log(JSON.stringify(await generateSecrets(), null, 2));
  process.exit(0);
}

const { unstable_readConfig } = await import("wrangler");
let resources;
let replicas;
let queues;
try {
  const config = unstable_readConfig({ config: options.config });
  resources = resourcesOf(config);
  replicas = replicaBucketsOf(config);
  queues = queuesOf(config);
} catch (error) {
  fail(`cannot read ${options.config}: ${error.message}`);
}
/** `--location <hint>` for a replica bucket R2 can place near its region. */
const locationArgs = (replica) => (replica.locationHint === null ? [] : ["--location", replica.locationHint]);
const shownConfig = relative(process.cwd(), options.config) || options.config;
const databaseConfigured = Boolean(resources.databaseId) && resources.databaseId !== PLACEHOLDER_DATABASE_ID;
const wranglerEntry = process.env.DEPLOY_WRANGLER ?? join(root, "node_modules/wrangler/bin/wrangler.js");
// wrangler's output is captured, so it runs non-interactively: prompts (the migrations'
// confirmation) take their defaults, and a missing login is an error rather than a browser.
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" };

/** The command line as the user would type it. */
const shown = (args) => `npx wrangler ${args.join(" ")}`;

/** Runs wrangler; returns { ok, stdout, stderr }. With `required`, a failure ends the deploy. */
function wrangler(args, { required = true } = {}) {
  const full = [...args, "--config", options.config];
  console.log(`$ ${shown(full)}`);
  const result = spawnSync(process.execPath, [wranglerEntry, ...full], { cwd: root, env, encoding: "utf8" });
  const ok = result.status === 0;
  if (!ok && required) {
    process.stdout.write(result.stdout ?? "");
    process.stderr.write(result.stderr ?? "");
    const output = `${result.stdout}\n${result.stderr}`;
    const hint = /not authenticated|wrangler login|authentication|CLOUDFLARE_API_TOKEN|API token|code: 10000/i.test(
      output,
    )
      ? " Log in with `npx wrangler login`, or set CLOUDFLARE_API_TOKEN."
      : "";
    fail(`${shown(args)} failed (its output is above).${hint}`);
  }
  return { ok, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

if (options.dryRun) {
  const lines = [
    `Dry run: nothing is run. \`npm run deploy\` would run, in order (each check decides whether the next line runs):`,
    ...(databaseConfigured
      ? [`# D1: ${shownConfig} already names database ${resources.databaseId}`]
      : [
          shown(["d1", "list", "--json", "--config", shownConfig]),
          `  # when ${resources.databaseName} is missing:`,
          `  ${shown(["d1", "create", resources.databaseName, "--config", shownConfig])}`,
          `  # then its id is written into ${shownConfig} (database_id)`,
        ]),
    shown(["r2", "bucket", "list", "--config", shownConfig]),
    `  # when ${resources.bucketName} is missing:`,
    `  ${shown(["r2", "bucket", "create", resources.bucketName, "--config", shownConfig])}`,
    ...replicas.flatMap((replica) => [
      `  # when ${replica.bucketName} (replica region ${replica.region}) is missing:`,
      `  ${shown(["r2", "bucket", "create", replica.bucketName, ...locationArgs(replica), "--config", shownConfig])}`,
    ]),
    ...queues.map(
      (queue) => `${shown(["queues", "create", queue, "--config", shownConfig])}   # "already exists" is fine`,
    ),
    shown(["d1", "migrations", "apply", "DB", "--remote", "--config", shownConfig]),
    shown(["secret", "list", "--format", "json", "--config", shownConfig]),
    `  # each missing secret group is generated: REGISTRY_ADMIN_ACCESS_KEY_ID with REGISTRY_ADMIN_SECRET_ACCESS_KEY, REGISTRY_TOKEN_SIGNING_KEY, REGISTRY_SECRETS_KEY`,
    shown(["deploy", "--secrets-file", "<the generated secrets, when any>", "--config", shownConfig]),
  ];
  console.log(lines.join("\n"));
  process.exit(0);
}

// 1. D1
const listed = () => wrangler(["d1", "list", "--json"]).stdout;
let decision = databaseDecision(resources, databaseConfigured ? "[]" : listed());
if (decision.action === "create") {
  wrangler(["d1", "create", resources.databaseName]);
  decision = databaseDecision(resources, listed());
  if (decision.action !== "write-id")
    fail(`created D1 database ${resources.databaseName}, but wrangler d1 list does not show it`);
}
if (decision.action === "write-id") {
  writeFileSync(options.config, withDatabaseId(readFileSync(options.config, "utf8"), decision.id));
  console.log(
    `Wrote database_id = "${decision.id}" (D1 database ${resources.databaseName}) into ${shownConfig}: commit it.`,
  );
}
console.log(`D1: database ${resources.databaseName} (${decision.id}).`);

// 2. R2
const buckets = bucketNames(wrangler(["r2", "bucket", "list"]).stdout);
if (buckets.includes(resources.bucketName)) console.log(`R2: bucket ${resources.bucketName} exists.`);
else wrangler(["r2", "bucket", "create", resources.bucketName]);
// Regional replicas (REPLICA_REGIONS), each created near its region.
for (const replica of replicas) {
  if (buckets.includes(replica.bucketName))
    console.log(`R2: replica bucket ${replica.bucketName} (${replica.region}) exists.`);
  else wrangler(["r2", "bucket", "create", replica.bucketName, ...locationArgs(replica)]);
}

// Queues (the scanning queue and its dead-letter queue): created, or already there.
for (const queue of queues) {
  const created = wrangler(["queues", "create", queue], { required: false });
  if (created.ok) continue;
  if (!/already exists/i.test(`${created.stdout}${created.stderr}`)) {
    process.stderr.write(created.stderr);
    fail(`wrangler queues create ${queue} failed (its output is above)`);
  }
  console.log(`Queues: ${queue} exists.`);
}

// 3. Migrations (those already applied are skipped by wrangler).
wrangler(["d1", "migrations", "apply", "DB", "--remote"]);

// 4. Secrets: only the missing ones, never replacing one.
const secretList = wrangler(["secret", "list", "--format", "json"], { required: false });
const workerExists = secretList.ok;
if (!workerExists && !/not found/i.test(`${secretList.stdout}${secretList.stderr}`)) {
  process.stderr.write(secretList.stderr);
  fail("wrangler secret list failed (its output is above)");
}
const groups = secretGroups(workerExists ? secretList.stdout : null);
if (groups.incomplete.length > 0) {
  const what = groups.incomplete
    .map(({ present, absent }) => `${present.join(", ")} but not ${absent.join(", ")}`)
    .join("; ");
  fail(
    `the Worker has ${what}: put the missing one with \`npx wrangler secret put\`, or delete the other (\`npx wrangler secret delete\`), and deploy again`,
  );
}
const generated = await generateSecrets(groups.missing.flat());
const deployArgs = ["deploy"];
let secretsDir = null;
if (Object.keys(generated).length > 0) {
  secretsDir = mkdtempSync(join(tmpdir(), "edge-registry-secrets-"));
  const file = join(secretsDir, "secrets.json");
  writeFileSync(file, JSON.stringify(generated), { mode: 0o600 });
  deployArgs.push("--secrets-file", file);
  console.log(`Secrets: generating ${Object.keys(generated).join(", ")}.`);
} else console.log("Secrets: all set.");

// 5. Deploy
let deployed;
try {
  deployed = wrangler(deployArgs);
} finally {
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
}
process.stdout.write(deployed.stdout);
const url = deployedUrl(deployed.stdout) ?? "https://<your Worker's host>";
console.log(`\nDeployed: ${url}`);
if (generated.REGISTRY_ADMIN_ACCESS_KEY_ID) {
  console.log(`
The bootstrap admin's access key (shown only now; keep it somewhere safe):
  export REGISTRY_ADMIN_ACCESS_KEY_ID=${generated.REGISTRY_ADMIN_ACCESS_KEY_ID}
  export REGISTRY_ADMIN_SECRET_ACCESS_KEY=${generated.REGISTRY_ADMIN_SECRET_ACCESS_KEY}`);
}
console.log(`
Next:
  npm run -s admin -- --url ${url} create-user alice
  skopeo login ${url.replace(/^https:\/\//, "")} -u <accessKeyId>    # or docker / podman login`);
