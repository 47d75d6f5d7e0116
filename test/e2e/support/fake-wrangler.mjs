#!/usr/bin/env node
// A stand-in for wrangler talking to a Cloudflare account, for testing `npm run deploy`
// (scripts/deploy.mjs) offline: the account is a JSON file ($FAKE_WRANGLER_STATE) holding
// { authenticated, databases: [{ uuid, name }], buckets: [name], workerExists, secrets: [name],
// migrated: [database id], calls: [[arg, ...]] }. It answers the commands deploy.mjs runs in the
// formats wrangler 4.86 prints (d1 list --json, r2 bucket list's labelled values, secret list
// --format json, the workers.dev URL after deploy) and records every call.
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const statePath = process.env.FAKE_WRANGLER_STATE;
const state = JSON.parse(readFileSync(statePath, "utf8"));
const args = process.argv.slice(2);
state.calls.push(args);
const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
save();

const configPath = args[args.indexOf("--config") + 1];
const positional = args.filter((arg, index) => !arg.startsWith("--") && !args[index - 1]?.startsWith("--"));
const command = positional.slice(0, 3).join(" ");

function exit(code, text, stream = code === 0 ? process.stdout : process.stderr) {
  stream.write(text);
  process.exit(code);
}

if (!state.authenticated) {
  exit(
    1,
    "✘ [ERROR] In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work.\n",
  );
}

if (command === "d1 list") exit(0, JSON.stringify(state.databases, null, 2) + "\n");
if (command.startsWith("d1 create")) {
  const name = positional[2];
  const uuid = randomUUID();
  state.databases.push({
    uuid,
    name,
    created_at: new Date().toISOString(),
    version: "production",
    num_tables: 0,
    file_size: 0,
  });
  save();
  exit(
    0,
    `✅ Successfully created DB '${name}'\nCreated your new D1 database.\n\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "${name}"\ndatabase_id = "${uuid}"\n`,
  );
}
if (command.startsWith("queues create")) {
  const name = positional[2];
  state.queues ??= [];
  if (state.queues.includes(name))
    exit(
      1,
      `✘ [ERROR] A request to the Cloudflare API failed.\n\nA queue with this name already exists. [code: 11009]\n`,
    );
  state.queues.push(name);
  save();
  exit(0, `🌀 Creating queue '${name}'\n✅ Created queue '${name}'\n`);
}
if (command === "r2 bucket list") {
  exit(
    0,
    `Listing buckets...\n${state.buckets.map((name) => `name:           ${name}\ncreation_date:  2026-01-01T00:00:00.000Z`).join("\n\n")}\n`,
  );
}
if (command.startsWith("r2 bucket create")) {
  state.buckets.push(positional[3]);
  save();
  exit(
    0,
    `Creating bucket '${positional[3]}'...\n✅ Created bucket '${positional[3]}' with default storage class of Standard.\n`,
  );
}
if (command.startsWith("d1 migrations apply")) {
  const id = /^\s*database_id\s*=\s*"([^"]+)"/m.exec(readFileSync(configPath, "utf8"))?.[1];
  if (!state.databases.some((database) => database.uuid === id)) exit(1, `✘ [ERROR] Couldn't find DB with id ${id}\n`);
  state.migrated.push(id);
  save();
  exit(0, "Migrations to be applied:\n✅ Applied\n");
}
if (command.startsWith("secret list")) {
  if (!state.workerExists)
    exit(
      1,
      `✘ [ERROR] Worker "edge-registry" not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.\n`,
    );
  exit(
    0,
    JSON.stringify(
      state.secrets.map((name) => ({ name, type: "secret_text" })),
      null,
      "  ",
    ) + "\n",
  );
}
if (command.startsWith("deploy")) {
  const file = args.includes("--secrets-file") ? args[args.indexOf("--secrets-file") + 1] : null;
  if (file) {
    const secrets = JSON.parse(readFileSync(file, "utf8"));
    state.uploadedSecrets = secrets;
    for (const name of Object.keys(secrets)) if (!state.secrets.includes(name)) state.secrets.push(name);
  }
  state.workerExists = true;
  save();
  exit(
    0,
    "Total Upload: 812.00 KiB / gzip: 160.00 KiB\nUploaded edge-registry (3.10 sec)\nDeployed edge-registry triggers (0.80 sec)\n  https://edge-registry.example.workers.dev\n  schedule: */15 * * * *\nCurrent Version ID: 0000\n",
  );
}
exit(1, `fake wrangler: unexpected command ${args.join(" ")}\n`);
