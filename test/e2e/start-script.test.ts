/**
 * `npm start` (scripts/start.mjs) as a newcomer meets it: its arguments, the checks it makes
 * before any slow step (a port in use, malformed secrets), a .dev.vars from an older version
 * completed, one address printed, and wrangler.toml's cron jobs run on their schedule (here
 * every 2 s through REGISTRY_CRON_INTERVAL_SECONDS, the testing aid) so a lifecycle policy
 * expires an image with nobody asking.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join, resolve } from "node:path";
import { ECRClient, PutLifecyclePolicyCommand } from "@aws-sdk/client-ecr";
import { afterEach, describe, expect, it } from "vitest";
import { newAdminKey, newSigningKeyJwk } from "../../scripts/dev-vars.mjs";
import { useTempDir } from "./support/context";
import { freePort, stopGroup } from "./support/process-groups";
import { readLog, startRegistryProcess, type RegistryProcess } from "./support/registry-process";
import { KEEP_ONE_IMAGE, manifestStatus, pushTinyImage } from "./support/tiny-image";

const ROOT = resolve(import.meta.dirname, "../..");
const SECRET_NAMES = [
  "REGISTRY_ADMIN_ACCESS_KEY_ID",
  "REGISTRY_ADMIN_SECRET_ACCESS_KEY",
  "REGISTRY_TOKEN_SIGNING_KEY",
  "REGISTRY_TOKEN_VERIFICATION_KEYS",
  "REGISTRY_SECRETS_KEY",
];

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node scripts/start.mjs ...args` to its end (it must end within `timeoutMs`). */
function runStart(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Finished> {
  const base: Record<string, string | undefined> = { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", ...env };
  for (const name of SECRET_NAMES) if (!(name in env)) delete base[name];
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [join(ROOT, "scripts/start.mjs"), ...args], {
      cwd: ROOT,
      env: base,
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) void stopGroup(child.pid, 2_000);
      reject(new Error(`start.mjs ${args.join(" ")} still running after ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const temp = useTempDir("start-");

describe("npm start's arguments", () => {
  it("refuses an unknown argument with the usage (exit 2), starting nothing", async () => {
    const result = await runStart(["--prot", "9000"], { REGISTRY_STATE_DIR: join(temp.path, "state") });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^npm start: unknown argument "--prot"\n/);
    expect(result.stderr).toContain("usage: npm start [-- [--port N] [--host ADDRESS]]");
    expect(existsSync(join(temp.path, "state"))).toBe(false);
  });

  it.each([["--port"], ["--port=abc"], ["--port=70000"]])("refuses %s with one line", async (arg) => {
    const result = await runStart([arg], { REGISTRY_STATE_DIR: join(temp.path, "state") });
    expect(result.code).not.toBe(0);
    expect(result.stderr.split("\n")[0]).toMatch(
      /^npm start: --port (needs a value|must be a port number from 1 to 65535, not "(abc|70000)")$/,
    );
  });

  it.each([["--help"], ["-h"], ["help"]])("%s prints the usage and exits 0", async (arg) => {
    const result = await runStart([arg], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm start/);
    expect(result.stdout).toContain("REGISTRY_CRON_INTERVAL_SECONDS");
    expect(result.stderr).toBe("");
  });
});

describe("npm start's checks before any slow step", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
    server = undefined;
  });

  it("fails in one line, at once, when the port is in use (--port and PORT alike)", async () => {
    const port = await freePort();
    server = createServer();
    await new Promise<void>((listening) => server!.listen(port, "127.0.0.1", listening));
    const state = join(temp.path, "state");
    for (const [args, env] of [
      [["--port", String(port)], {}],
      [[], { PORT: String(port) }],
    ] as const) {
      const result = await runStart([...args], {
        ...env,
        REGISTRY_STATE_DIR: state,
        REGISTRY_DEV_VARS: join(temp.path, "dev.vars"),
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `npm start: port ${port} is already in use on 127.0.0.1 (another registry?): stop it, or choose another port with --port N\n`,
      );
      expect(result.stdout).toBe("");
      // Before migrations, bundling and even .dev.vars: nothing was written.
      expect(existsSync(state)).toBe(false);
      expect(existsSync(join(temp.path, "dev.vars"))).toBe(false);
      expect(result.ms).toBeLessThan(5_000);
    }
  });

  it.each<[string, string, RegExp]>([
    [
      "a signing key that is not JSON",
      "REGISTRY_TOKEN_SIGNING_KEY={oops\n",
      /^npm start: REGISTRY_TOKEN_SIGNING_KEY is not JSON \(it must be an ES256 JWK\) \(in \S+dev\.vars: delete the line and npm start writes a new one\)\n$/,
    ],
    [
      "a signing key without its private part",
      `REGISTRY_TOKEN_SIGNING_KEY='{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"k"}'\n`,
      /^npm start: REGISTRY_TOKEN_SIGNING_KEY must be a private key \(with "d"\) \(in /,
    ],
    [
      "a short secrets key",
      "REGISTRY_SECRETS_KEY=AAAA\n",
      /^npm start: REGISTRY_SECRETS_KEY must be 32 bytes \(base64 of 32 random bytes\), not 3 \(in /,
    ],
    [
      "an admin key id without its secret",
      "REGISTRY_ADMIN_ACCESS_KEY_ID=AKIAEXAMPLE\n",
      /^npm start: REGISTRY_ADMIN_ACCESS_KEY_ID is set without REGISTRY_ADMIN_SECRET_ACCESS_KEY \(in /,
    ],
  ])("refuses %s in .dev.vars in one line, before the migrations", async (_what, line, message) => {
    const devVars = join(temp.path, "dev.vars");
    writeFileSync(devVars, line);
    const result = await runStart(["--port", String(await freePort())], {
      REGISTRY_STATE_DIR: join(temp.path, "state"),
      REGISTRY_DEV_VARS: devVars,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stdout).not.toMatch(/migration|D1 schema/);
    expect(existsSync(join(temp.path, "state", "v3", "d1"))).toBe(false);
  });

  it("names the environment when the bad value comes from there", async () => {
    const result = await runStart(["--port", String(await freePort())], {
      REGISTRY_STATE_DIR: join(temp.path, "state"),
      REGISTRY_DEV_VARS: join(temp.path, "dev.vars"),
      REGISTRY_TOKEN_SIGNING_KEY: "[]",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("npm start: REGISTRY_TOKEN_SIGNING_KEY must be a JWK object (set in the environment)\n");
  });
});

describe("npm start configured by its environment", () => {
  it("writes no .dev.vars when the environment holds the admin key and the signing key", async () => {
    const admin = newAdminKey();
    const devVars = join(temp.path, "dev.vars");
    // A bad verification key list stops the start right after the .dev.vars step.
    const result = await runStart(["--port", String(await freePort())], {
      REGISTRY_STATE_DIR: join(temp.path, "state"),
      REGISTRY_DEV_VARS: devVars,
      REGISTRY_ADMIN_ACCESS_KEY_ID: admin.id,
      REGISTRY_ADMIN_SECRET_ACCESS_KEY: admin.secret,
      REGISTRY_TOKEN_SIGNING_KEY: JSON.stringify(await newSigningKeyJwk()),
      REGISTRY_TOKEN_VERIFICATION_KEYS: "nope",
    });
    expect(result.stderr).toBe(
      "npm start: REGISTRY_TOKEN_VERIFICATION_KEYS must be a JSON array of public JWKs (set in the environment)\n",
    );
    expect(existsSync(devVars)).toBe(false);
  });
});

describe("npm start with an old .dev.vars and its cron jobs", () => {
  let registry: RegistryProcess | undefined;
  afterEach(async () => {
    await registry?.stop();
    registry = undefined;
  });

  it("completes a .dev.vars holding only the admin key, listens on --port (not PORT), prints one address, and expires an image on schedule", async () => {
    const devVars = join(temp.path, "dev.vars");
    const admin = newAdminKey();
    writeFileSync(
      devVars,
      `REGISTRY_ADMIN_ACCESS_KEY_ID=${admin.id}\nREGISTRY_ADMIN_SECRET_ACCESS_KEY=${admin.secret}`,
    ); // no final newline
    const port = await freePort();
    const logPath = join(temp.path, "registry.log");
    registry = await startRegistryProcess(join(temp.path, "state"), logPath, {
      port,
      args: ["--port", String(port)],
      env: {
        ...Object.fromEntries(SECRET_NAMES.map((name) => [name, undefined])),
        // Were PORT used, listening on port 1 would fail.
        PORT: "1",
        REGISTRY_DEV_VARS: devVars,
        REGISTRY_CRON_INTERVAL_SECONDS: "2",
      },
    });
    const url = registry.url;
    const authorization = `Basic ${Buffer.from(`${admin.id}:${admin.secret}`).toString("base64")}`;

    // The file keeps the admin key and gains a signing key and a secrets key, on lines of their own.
    const lines = readFileSync(devVars, "utf8").split("\n");
    expect(lines.slice(0, 2)).toEqual([
      `REGISTRY_ADMIN_ACCESS_KEY_ID=${admin.id}`,
      `REGISTRY_ADMIN_SECRET_ACCESS_KEY=${admin.secret}`,
    ]);
    expect(lines.filter((line) => line.startsWith("REGISTRY_TOKEN_SIGNING_KEY='{"))).toHaveLength(1);
    expect(lines.filter((line) => /^REGISTRY_SECRETS_KEY=[A-Za-z0-9+/]{43}=$/.test(line))).toHaveLength(1);

    // Tokens are issued (this was a 500 for every token request).
    const token = await fetch(`${url}/token?service=edge-registry&scope=repository:cron/app:pull`, {
      headers: { Authorization: authorization },
    });
    expect(token.status, await token.clone().text()).toBe(200);
    expect(((await token.json()) as { token: string }).token).toMatch(/^ey/);

    // One address, the one to use; not Miniflare's internal one.
    const log = readLog(logPath);
    expect(log.match(/http:\/\/[^\s)]+/g)).toEqual([`http://localhost:${port}`]);
    expect(log).not.toMatch(/Ready on/);
    expect(log).toMatch(
      /Cron jobs: "\*\/15 \* \* \* \*" next at \S+, "\* \* \* \* \*" next at \S+ \(every 2 s: REGISTRY_CRON_INTERVAL_SECONDS\)/,
    );

    // A lifecycle policy keeping one image: the cron expires the older one by itself.
    const repository = "cron/app";
    const older = await pushTinyImage(url, authorization, repository, "v1");
    await new Promise((r) => setTimeout(r, 20));
    const newer = await pushTinyImage(url, authorization, repository, "v2");
    const ecr = new ECRClient({
      endpoint: url,
      region: "us-east-1",
      credentials: { accessKeyId: admin.id, secretAccessKey: admin.secret },
      maxAttempts: 1,
    });
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: repository, lifecyclePolicyText: KEEP_ONE_IMAGE }));
    const deadline = Date.now() + 60_000;
    while ((await manifestStatus(url, authorization, repository, older)) === 200 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 500));
    expect(await manifestStatus(url, authorization, repository, older), readLog(logPath)).toBe(404);
    expect(await manifestStatus(url, authorization, repository, newer)).toBe(200);
    const after = readLog(logPath);
    expect(after).toMatch(/scheduled lifecycle: 1 repository with a policy, 2 images evaluated, 1 expired/);
    expect(after).toMatch(/^\[cron\] \*\/15 \* \* \* \* at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z: ok in \d+ ms$/m);
    // The expiry on the audit trail (the pushes and the policy are recorded too: not asked for here).
    const audit = await fetch(`${url}/admin/audit-events?repository=${repository}&eventName=ExpireImage`, {
      headers: { Authorization: authorization },
    });
    const { events } = (await audit.json()) as {
      events: {
        userIdentity: { invokedBy?: string };
        eventName: string;
        eventTime: string;
        additionalEventData: { imageDigest: string };
      }[];
    };
    expect(
      events.map((event) => [event.userIdentity.invokedBy, event.eventName, event.additionalEventData.imageDigest]),
    ).toEqual([["lifecycle-policy", "ExpireImage", older]]);
    expect(events[0]?.eventTime).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
