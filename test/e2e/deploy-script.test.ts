/**
 * `npm run deploy` (scripts/deploy.mjs) tested offline: --dry-run runs nothing and prints the
 * plan, and the real run is driven against a stand-in for wrangler and a Cloudflare account
 * (support/fake-wrangler.mjs), on a copy of wrangler.toml: a first deploy creates what is
 * missing and writes the database id, a second one creates nothing and replaces no secret.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSettings } from "../../scripts/dev-vars.mjs";
import { useTempDir } from "./support/context";

const ROOT = resolve(import.meta.dirname, "../..");
const FAKE = join(ROOT, "test/e2e/support/fake-wrangler.mjs");

interface Account {
  authenticated: boolean;
  databases: { uuid: string; name: string }[];
  buckets: string[];
  workerExists: boolean;
  secrets: string[];
  migrated: string[];
  calls: string[][];
  uploadedSecrets?: Record<string, string>;
  queues?: string[];
}

const temp = useTempDir("deploy-");

/** A copy of wrangler.toml in the temp dir (main and migrations pointing back at the repo), and an account. */
function setUp(account: Partial<Account> = {}): { config: string; state: string } {
  const config = join(temp.path, "wrangler.toml");
  const text = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
    .replace('main = "src/index.ts"', `main = "${join(ROOT, "src/index.ts")}"`)
    .replace('migrations_dir = "migrations"', `migrations_dir = "${join(ROOT, "migrations")}"`);
  writeFileSync(config, text);
  const state = join(temp.path, "account.json");
  writeFileSync(
    state,
    JSON.stringify({
      authenticated: true,
      databases: [],
      buckets: [],
      workerExists: false,
      secrets: [],
      migrated: [],
      calls: [],
      ...account,
    }),
  );
  return { config, state };
}

function deploy(args: string[], state: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [join(ROOT, "scripts/deploy.mjs"), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, DEPLOY_WRANGLER: FAKE, FAKE_WRANGLER_STATE: state, NO_COLOR: "1" },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolvePromise({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

const account = (state: string): Account => JSON.parse(readFileSync(state, "utf8")) as Account;
/** The calls without their `--config <path>` and file arguments. */
const commands = (state: string): string[] =>
  account(state).calls.map((call) =>
    call
      .filter(
        (arg, index) => arg !== "--config" && call[index - 1] !== "--config" && call[index - 1] !== "--secrets-file",
      )
      .join(" "),
  );

const ALL_SECRETS = [
  "REGISTRY_ADMIN_ACCESS_KEY_ID",
  "REGISTRY_ADMIN_SECRET_ACCESS_KEY",
  "REGISTRY_TOKEN_SIGNING_KEY",
  "REGISTRY_SECRETS_KEY",
];

describe("npm run deploy", () => {
  it("--dry-run prints every command in order and runs none", async () => {
    const { config, state } = setUp();
    const before = readFileSync(config, "utf8");
    const run = await deploy(["--dry-run", "--config", config], state);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split("\n").filter((line) => line.trimStart().startsWith("npx wrangler"));
    expect(lines.map((line) => line.trim().replace(/ --config \S+/, ""))).toEqual([
      "npx wrangler d1 list --json",
      "npx wrangler d1 create edge-registry",
      "npx wrangler r2 bucket list",
      "npx wrangler r2 bucket create edge-registry-blobs",
      'npx wrangler queues create edge-registry-scans   # "already exists" is fine',
      'npx wrangler queues create edge-registry-events   # "already exists" is fine',
      'npx wrangler queues create edge-registry-scans-dlq   # "already exists" is fine',
      'npx wrangler queues create edge-registry-events-dlq   # "already exists" is fine',
      "npx wrangler d1 migrations apply DB --remote",
      "npx wrangler secret list --format json",
      "npx wrangler deploy --secrets-file <the generated secrets, when any>",
    ]);
    expect(account(state).calls).toEqual([]);
    expect(readFileSync(config, "utf8")).toBe(before);
  });

  it("deploys to an empty account: creates the database and bucket, writes the id, migrates, uploads every secret, prints the admin key and the URL", async () => {
    const { config, state } = setUp();
    const run = await deploy(["--config", config], state);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(commands(state)).toEqual([
      "d1 list --json",
      "d1 create edge-registry",
      "d1 list --json",
      "r2 bucket list",
      "r2 bucket create edge-registry-blobs",
      "queues create edge-registry-scans",
      "queues create edge-registry-events",
      "queues create edge-registry-scans-dlq",
      "queues create edge-registry-events-dlq",
      "d1 migrations apply DB --remote",
      "secret list --format json",
      "deploy --secrets-file",
    ]);
    const after = account(state);
    const id = after.databases[0]!.uuid;
    expect(readFileSync(config, "utf8")).toContain(`database_id = "${id}"`);
    expect(readFileSync(config, "utf8")).not.toContain("00000000-0000-0000-0000-000000000000");
    expect(after.migrated).toEqual([id]);
    expect(after.buckets).toEqual(["edge-registry-blobs"]);
    expect(after.queues).toEqual([
      "edge-registry-scans",
      "edge-registry-events",
      "edge-registry-scans-dlq",
      "edge-registry-events-dlq",
    ]);
    expect(Object.keys(after.uploadedSecrets ?? {}).sort()).toEqual([...ALL_SECRETS].sort());
    expect(await checkSettings(after.uploadedSecrets ?? {})).toEqual([]);
    expect(run.stdout).toContain(
      `export REGISTRY_ADMIN_ACCESS_KEY_ID=${after.uploadedSecrets?.REGISTRY_ADMIN_ACCESS_KEY_ID}`,
    );
    expect(run.stdout).toContain("Deployed: https://edge-registry.example.workers.dev");
    expect(run.stdout).toContain(
      "npm run -s admin -- --url https://edge-registry.example.workers.dev create-user alice",
    );
    // The generated secrets file is gone.
    const file = account(state)
      .calls.at(-1)!
      .at(account(state).calls.at(-1)!.indexOf("--secrets-file") + 1)!;
    expect(() => readFileSync(file)).toThrow();

    // Again: nothing to create, no secret replaced, the same id.
    const again = await deploy(["--config", config], state);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(commands(state).slice(12)).toEqual([
      "r2 bucket list",
      "queues create edge-registry-scans",
      "queues create edge-registry-events",
      "queues create edge-registry-scans-dlq",
      "queues create edge-registry-events-dlq",
      "d1 migrations apply DB --remote",
      "secret list --format json",
      "deploy",
    ]);
    expect(account(state).databases).toHaveLength(1);
    expect(again.stdout).toContain("Secrets: all set.");
    expect(again.stdout).not.toContain("REGISTRY_ADMIN_SECRET_ACCESS_KEY=");
  });

  it("writes the id of a database the account already has, and generates only the missing secrets", async () => {
    const uuid = "2b0c1f3e-7d8a-4c55-9e61-0a1b2c3d4e5f";
    const { config, state } = setUp({
      databases: [
        { uuid: "11111111-2222-4333-8444-555555555555", name: "another" },
        { uuid, name: "edge-registry" },
      ],
      buckets: ["edge-registry-blobs"],
      workerExists: true,
      secrets: ["REGISTRY_ADMIN_ACCESS_KEY_ID", "REGISTRY_ADMIN_SECRET_ACCESS_KEY", "REGISTRY_TOKEN_SIGNING_KEY"],
    });
    const run = await deploy(["--config", config], state);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(commands(state)).toEqual([
      "d1 list --json",
      "r2 bucket list",
      "queues create edge-registry-scans",
      "queues create edge-registry-events",
      "queues create edge-registry-scans-dlq",
      "queues create edge-registry-events-dlq",
      "d1 migrations apply DB --remote",
      "secret list --format json",
      "deploy --secrets-file",
    ]);
    expect(readFileSync(config, "utf8")).toContain(`database_id = "${uuid}"`);
    expect(Object.keys(account(state).uploadedSecrets ?? {})).toEqual(["REGISTRY_SECRETS_KEY"]);
    expect(run.stdout).not.toContain("export REGISTRY_ADMIN_ACCESS_KEY_ID");
  });

  it("refuses to guess about an admin key id set without its secret", async () => {
    const { config, state } = setUp({
      databases: [{ uuid: "2b0c1f3e-7d8a-4c55-9e61-0a1b2c3d4e5f", name: "edge-registry" }],
      buckets: ["edge-registry-blobs"],
      workerExists: true,
      secrets: ["REGISTRY_ADMIN_ACCESS_KEY_ID"],
    });
    const run = await deploy(["--config", config], state);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^deploy: the Worker has REGISTRY_ADMIN_ACCESS_KEY_ID but not REGISTRY_ADMIN_SECRET_ACCESS_KEY: put the missing one/m,
    );
    expect(commands(state)).not.toContain("deploy");
  });

  it("says how to log in when wrangler is not authenticated", async () => {
    const { config, state } = setUp({ authenticated: false });
    const run = await deploy(["--config", config], state);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /deploy: npx wrangler d1 list --json failed \(its output is above\)\. Log in with `npx wrangler login`, or set CLOUDFLARE_API_TOKEN\.\n$/,
    );
    expect(commands(state)).toEqual(["d1 list --json"]);
  });

  it("--print-secrets prints a fresh, valid set for wrangler secret bulk; unknown arguments are refused", async () => {
    const { state } = setUp();
    const run = await deploy(["--print-secrets"], state);
    expect(run.code).toBe(0);
    const secrets = JSON.parse(run.stdout) as Record<string, string>;
    expect(Object.keys(secrets).sort()).toEqual([...ALL_SECRETS].sort());
    expect(await checkSettings(secrets)).toEqual([]);
    const wrong = await deploy(["--dryrun"], state);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^deploy: unknown argument "--dryrun"\n\nusage: npm run deploy/);
    expect(account(state).calls).toEqual([]);
  });
});
