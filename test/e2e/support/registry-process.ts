/**
 * Starts and stops a registry process the way `npm start` runs it (scripts/start.mjs), in its
 * own process group so that stopping it stops workerd too. Used by the global setup and by
 * tests that restart a registry over the same state.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { newAdminKey, newSecretsKey, newSigningKeyJwk } from "../../../scripts/dev-vars.mjs";
import { freePort, stopGroup } from "./process-groups";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const STARTUP_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;
/** How often the test registry revalidates cached tags (production: 86400). */
export const PULL_THROUGH_TAG_REVALIDATE_SECONDS = 10;

/** The secrets a registry process is started with (what .dev.vars holds for `npm start`). */
export interface RegistrySecrets {
  adminAccessKeyId: string;
  adminSecret: string;
  signingKey: string;
  secretsKey: string;
}

export async function newRegistrySecrets(): Promise<RegistrySecrets> {
  const admin = newAdminKey();
  return {
    adminAccessKeyId: admin.id,
    adminSecret: admin.secret,
    signingKey: JSON.stringify(await newSigningKeyJwk()),
    secretsKey: newSecretsKey(),
  };
}

export interface RegistryProcess {
  url: string;
  port: number;
  child: ChildProcess;
  secrets: RegistrySecrets;
  /** `Authorization` header value with the bootstrap admin's key. */
  adminAuthorization: string;
  stop(): Promise<void>;
}

export function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "(no log)";
  }
}

async function waitUntilReady(url: string, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the registry exited (${child.exitCode ?? child.signalCode}) before answering.\n--- server log ---\n${readLog(logPath)}`,
      );
    }
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      // Any answer from the Worker means it is up (/v2/ asks for credentials).
      if (response.status === 200 || response.status === 401) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `the registry did not answer GET ${url}/v2/ with 200 within ${STARTUP_TIMEOUT_MS / 1000}s (last: ${last}).\n--- server log ---\n${readLog(logPath)}`,
  );
}

/** Starts a registry on a free port over `stateDir`, logging to `logPath`, and waits until it answers. */
export async function startRegistryProcess(
  stateDir: string,
  logPath: string,
  options: {
    port?: number;
    secrets?: RegistrySecrets;
    /** Environment of the process on top of the usual one; an undefined value removes a variable. */
    env?: Record<string, string | undefined>;
    /** Arguments of `node scripts/start.mjs` (e.g. ["--port", "1234"]). */
    args?: string[];
  } = {},
): Promise<RegistryProcess> {
  const chosen = options.port ?? (await freePort());
  const secrets = options.secrets ?? (await newRegistrySecrets());
  const logFd = openSync(logPath, "a");
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(chosen),
    HOST: "127.0.0.1",
    REGISTRY_STATE_DIR: stateDir,
    // Never the developer's .dev.vars: the secrets come from the environment, and nothing else
    // is read from a file (a test that wants a .dev.vars names its own).
    REGISTRY_DEV_VARS: join(stateDir, "dev.vars"),
    // Every e2e client reaches the registry from 127.0.0.1 (the local front sets
    // CF-Connecting-IP from the socket), so the per-address failed-login limit would let one
    // file's deliberate failures throttle the next file's logins. The per-key limit stays on;
    // the per-address limit is tested in test/integration/login-throttle.test.ts.
    LOGIN_THROTTLE_IP_FAILURES: "100000",
    REGISTRY_ADMIN_ACCESS_KEY_ID: secrets.adminAccessKeyId,
    REGISTRY_ADMIN_SECRET_ACCESS_KEY: secrets.adminSecret,
    REGISTRY_TOKEN_SIGNING_KEY: secrets.signingKey,
    REGISTRY_SECRETS_KEY: secrets.secretsKey,
    // Every pull is written at once, so tests see lastRecordedPullTime without waiting.
    PULL_RECORD_INTERVAL_SECONDS: "0",
    // Cached tags are revalidated after 10 s instead of 24 h, so the tests can see it happen.
    PULL_THROUGH_TAG_REVALIDATE_SECONDS: String(PULL_THROUGH_TAG_REVALIDATE_SECONDS),
    FORCE_COLOR: "0",
    NO_COLOR: "1",
    ...options.env,
  };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const child = spawn(process.execPath, [join(ROOT, "scripts/start.mjs"), ...(options.args ?? [])], {
    cwd: ROOT,
    env,
    stdio: ["ignore", logFd, logFd],
    detached: true, // its own process group, so stopping it stops workerd and any helper with it
  });
  closeSync(logFd);
  const url = `http://127.0.0.1:${chosen}`;
  const stop = () => (child.pid === undefined ? Promise.resolve() : stopGroup(child.pid, STOP_GRACE_MS));
  try {
    await waitUntilReady(url, child, logPath);
  } catch (error) {
    await stop();
    throw error;
  }
  const adminAuthorization = `Basic ${Buffer.from(`${secrets.adminAccessKeyId}:${secrets.adminSecret}`).toString("base64")}`;
  return { url, port: chosen, child, secrets, adminAuthorization, stop };
}
