/**
 * Runs test/cli/aws-cli-flow.sh: the AWS CLI v2 (Debian's awscli at /usr/bin/aws, installed by
 * .ci/run) driving the registry with --endpoint-url, and skopeo logged in with
 * get-login-password. Fails, never skips, when the CLI is missing.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { useTempDir } from "./support/context";
import { adminCredentials } from "./support/ecr";
import { buildSingleArchLayout } from "./support/image-builder";
import { ociRef } from "./support/skopeo";

const SCRIPT = join(import.meta.dirname, "..", "cli", "aws-cli-flow.sh");

describe("AWS CLI v2", () => {
  const scratch = useTempDir("aws-cli-");

  it("creates, logs in, pushes, describes, locks tags, deletes images and the repository", async () => {
    expect(
      existsSync("/usr/bin/aws"),
      "the AWS CLI v2 is needed at /usr/bin/aws (apt-get install -y awscli; .ci/run does this)",
    ).toBe(true);
    const a = await buildSingleArchLayout({
      seed: "cli-a",
      layers: [{ size: 4096 }],
      tag: "a",
      dir: join(scratch.path, "a"),
    });
    const b = await buildSingleArchLayout({
      seed: "cli-b",
      layers: [{ size: 4096 }],
      tag: "b",
      dir: join(scratch.path, "b"),
    });
    const credentials = adminCredentials();
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        "bash",
        [SCRIPT],
        {
          timeout: 240_000,
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: scratch.path,
            ENDPOINT: inject("registryUrl"),
            REGISTRY_HOST: inject("registryHost"),
            IMAGE_A: ociRef(a.path, a.tag),
            IMAGE_B: ociRef(b.path, b.tag),
            AWS_ACCESS_KEY_ID: credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
            SCRATCH: scratch.path,
            SKOPEO_GLOBAL: `--policy ${inject("skopeoPolicyPath")} --registries-conf ${inject("skopeoRegistriesConfPath")}`,
            XDG_DATA_HOME: scratch.path,
          },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` }),
      );
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("AWS CLI flow passed");
  });
});
