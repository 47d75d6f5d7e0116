/**
 * Global setup of the e2e project: starts the registry the way `npm start` does (scripts/start.mjs:
 * the Worker in workerd with local D1, R2 and Durable Objects) on a free port with a fresh state
 * directory, waits until `GET /v2/` answers 200, and hands the tests its URL through
 * `inject("registryUrl")`. Teardown stops the whole process group and removes the state.
 *
 * skopeo (containers/image) probes `https://<registry>/v2/` before plain HTTP even with
 * --tls-verify=false; `npm start` puts a front before workerd that refuses TLS at once so
 * that probe fails fast (test/e2e/dev-server.test.ts keeps it that way; without it every skopeo
 * command would wait out Go's 10 s TLS handshake timeout).
 *
 * skopeo is required: without it this setup fails the run (it never skips).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { secretsInAuditTrail } from "./support/audit-scan";
import { readLog, startRegistryProcess } from "./support/registry-process";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL skopeo and the tests talk to, e.g. `http://127.0.0.1:41234` (no trailing slash). */
    registryUrl: string;
    /** `host:port` of registryUrl, for `docker://` references. */
    registryHost: string;
    /** File receiving the registry's stdout and stderr (one line per request). */
    registryLogPath: string;
    /** A per-run scratch directory (removed at teardown); tests make their own dirs inside it. */
    e2eTempDir: string;
    /** A containers-policy.json accepting any image, for `skopeo --policy`. */
    skopeoPolicyPath: string;
    /** An empty registries.conf, so the machine's own configuration does not leak in. */
    skopeoRegistriesConfPath: string;
    /** A containers auth.json holding the bootstrap admin's credentials for the registry. */
    skopeoAdminAuthFile: string;
    /** An auth.json with no credentials (anonymous skopeo runs). */
    skopeoAnonymousAuthFile: string;
    /** `Authorization` header value with the bootstrap admin's key. */
    adminAuthorization: string;
    /** The bootstrap admin's access key, for SigV4 clients (AWS SDK and CLI). */
    adminAccessKeyId: string;
    adminSecretAccessKey: string;
  }
}

function run(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const failure: Error | null = error;
      if (failure) reject(Object.assign(failure, { stdout, stderr }));
      else resolvePromise({ stdout, stderr });
    });
  });
}

async function requireSkopeo(): Promise<string> {
  try {
    const { stdout } = await run("skopeo", ["--version"]);
    return stdout.trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === "ENOENT"
        ? "skopeo is not installed, and the e2e tests need it. Install it (Debian/Ubuntu: `apt-get install -y skopeo`; .ci/run does this)."
        : `skopeo --version failed: ${(error as Error).message}\n${(error as { stderr?: string }).stderr ?? ""}`,
      { cause: error },
    );
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const skopeoVersion = await requireSkopeo();

  const tempDir = await mkdtemp(join(tmpdir(), "edge-registry-e2e-"));
  // Everything start.mjs writes (state, bundle, wrangler's logs) stays under tempDir.
  const stateDir = join(tempDir, "state");
  const logPath = join(tempDir, "registry.log");
  const policyPath = join(tempDir, "policy.json");
  const registriesConfPath = join(tempDir, "registries.conf");
  await writeFile(policyPath, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
  await writeFile(registriesConfPath, "unqualified-search-registries = []\n");

  const registry = await startRegistryProcess(stateDir, logPath);
  const { child, port, url } = registry;
  let stopping = false;
  child.on("exit", (code, signal) => {
    if (stopping) return;
    const message = `[e2e] the registry exited during the run (code ${code}, signal ${signal}); its log:\n${readLog(logPath).split("\n").slice(-30).join("\n")}`;
    console.error(message);
  });
  // Backstop: if vitest dies without running teardown, do not leave the registry behind.
  const killOnExit = () => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", killOnExit);

  let setUp = false;
  const teardown = async () => {
    // After the whole run: no record of the audit trail holds a secret (issue 17's acceptance).
    const scan = setUp
      ? await secretsInAuditTrail(url, registry.adminAuthorization, [
          registry.secrets.adminSecret,
          (JSON.parse(registry.secrets.signingKey) as { d: string }).d,
          registry.secrets.secretsKey,
        ])
      : null;
    stopping = true;
    await registry.stop();
    process.removeListener("exit", killOnExit);
    if (process.env.E2E_KEEP_STATE) console.log(`[e2e] kept ${tempDir}`);
    else await rm(tempDir, { recursive: true, force: true });
    if (scan !== null) {
      if (scan.findings.length > 0)
        throw new Error(`[e2e] secrets in the audit trail:\n${scan.findings.slice(0, 20).join("\n")}`);
      console.log(`[e2e] audit trail: ${scan.records} records, no secret in any`);
    }
  };

  try {
    console.log(`[e2e] ${skopeoVersion}; registry on ${url}; state in ${stateDir}`);
    project.provide("registryUrl", url);
    project.provide("registryHost", `127.0.0.1:${port}`);
    project.provide("registryLogPath", logPath);
    project.provide("e2eTempDir", tempDir);
    project.provide("skopeoPolicyPath", policyPath);
    project.provide("skopeoRegistriesConfPath", registriesConfPath);
    const adminAuthFile = join(tempDir, "admin-auth.json");
    const anonymousAuthFile = join(tempDir, "anonymous-auth.json");
    await writeFile(
      adminAuthFile,
      JSON.stringify({
        auths: { [`127.0.0.1:${port}`]: { auth: registry.adminAuthorization.slice("Basic ".length) } },
      }),
    );
    await writeFile(anonymousAuthFile, JSON.stringify({ auths: {} }));
    project.provide("skopeoAdminAuthFile", adminAuthFile);
    project.provide("skopeoAnonymousAuthFile", anonymousAuthFile);
    project.provide("adminAuthorization", registry.adminAuthorization);
    project.provide("adminAccessKeyId", registry.secrets.adminAccessKeyId);
    project.provide("adminSecretAccessKey", registry.secrets.adminSecret);
    setUp = true;
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
