/**
 * npm start's readiness check (scripts/readiness.mjs): a runtime that listens but never answers,
 * as workerd once did after a kill -9 restart (issue 12 #11), makes the start fail in one line
 * instead of leaving a registry that accepts connections and answers nothing. The frozen runtime
 * is the real workerd stopped (SIGSTOP) as soon as its socket accepts connections
 * (support/frozen-workerd.mjs, run by Miniflare through MINIFLARE_WORKERD_PATH).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDir } from "./support/context";
import { freePort, stopGroup } from "./support/process-groups";
import { newRegistrySecrets } from "./support/registry-process";

const ROOT = resolve(import.meta.dirname, "../..");
const FROZEN = join(ROOT, "test/e2e/support/frozen-workerd.mjs");
const require = createRequire(import.meta.url);
const REAL_WORKERD = require.resolve("@cloudflare/workerd-linux-64/bin/workerd", {
  paths: [dirname(require.resolve("miniflare"))],
});

const temp = useTempDir("readiness-");

describe("npm start's readiness check", () => {
  it("fails in one line, without announcing the registry, when workerd listens but never answers", async () => {
    const secrets = await newRegistrySecrets();
    const port = await freePort();
    const child = spawn(process.execPath, [join(ROOT, "scripts/start.mjs")], {
      cwd: ROOT,
      detached: true,
      env: {
        ...process.env,
        FORCE_COLOR: "0",
        PORT: String(port),
        REGISTRY_STATE_DIR: join(temp.path, "state"),
        REGISTRY_ADMIN_ACCESS_KEY_ID: secrets.adminAccessKeyId,
        REGISTRY_ADMIN_SECRET_ACCESS_KEY: secrets.adminSecret,
        REGISTRY_TOKEN_SIGNING_KEY: secrets.signingKey,
        REGISTRY_SECRETS_KEY: secrets.secretsKey,
        MINIFLARE_WORKERD_PATH: FROZEN,
        REAL_WORKERD,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const code = await new Promise<number | null>((resolvePromise) => child.on("close", resolvePromise));
      expect(code).toBe(1);
      expect(stderr).toContain(
        "npm start: the Worker did not answer a request within 60 s of starting, so workerd was stopped. Start again; if it happens again, keep a copy of",
      );
      expect(stdout).not.toContain("Registry ready");
      // Nothing listens on the registry's port.
      await expect(fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    } finally {
      // The stopped workerd outlives its wrapper (Miniflare killed the wrapper): the group goes.
      if (child.pid !== undefined) await stopGroup(child.pid, 1_000);
    }
  }, 300_000);
});
