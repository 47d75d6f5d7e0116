/**
 * `aws ecr-public put-repository-catalog-data` and `get-repository-catalog-data` (the AWS CLI v2
 * at /usr/bin/aws) against the registry with nothing but --endpoint-url: the CLI's own target
 * prefix (SpencerFrontendService) and signing name (ecr-public) must be what the registry
 * serves. Fails, never skips, when the CLI is missing.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateRepositoryCommand } from "@aws-sdk/client-ecr";
import { describe, expect, inject, it } from "vitest";
import { useTempDir } from "./support/context";
import { adminCredentials, ecrClient, REGION, uniqueName } from "./support/ecr";

const AWS = "/usr/bin/aws";
/** A 1×1 PNG. */
const PNG_LOGO = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

describe("aws ecr-public catalog data", () => {
  const scratch = useTempDir("ecr-public-");

  /** Runs `aws ecr-public <args>` as the bootstrap admin; its JSON output, or a failure with its stderr. */
  function ecrPublic(args: string[]): Promise<Record<string, unknown>> {
    const credentials = adminCredentials();
    return new Promise((resolve, reject) => {
      execFile(
        AWS,
        ["ecr-public", "--endpoint-url", inject("registryUrl"), "--region", REGION, "--output", "json", ...args],
        {
          timeout: 60_000,
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: scratch.path,
            AWS_ACCESS_KEY_ID: credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
            AWS_CONFIG_FILE: join(scratch.path, "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE: join(scratch.path, "aws-credentials"),
            AWS_PAGER: "",
          },
        },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`aws ecr-public ${args[0] ?? ""} failed: ${stderr}`));
          else resolve(JSON.parse(stdout) as Record<string, unknown>);
        },
      );
    });
  }

  it("puts and gets a repository's catalog data", async () => {
    expect(existsSync(AWS), `the AWS CLI v2 is needed at ${AWS} (apt-get install -y awscli)`).toBe(true);
    const name = `gallery/${uniqueName("catalog")}`;
    await ecrClient().send(new CreateRepositoryCommand({ repositoryName: name }));
    const catalogData = {
      description: "A web server, for the gallery",
      architectures: ["ARM 64", "x86-64"],
      operatingSystems: ["Linux"],
      logoImageBlob: PNG_LOGO,
      aboutText: "# About\n\nServes pages.",
      usageText: "```\ndocker run app\n```",
    };
    const file = join(scratch.path, "catalog.json");
    await writeFile(file, JSON.stringify(catalogData));
    const expected = {
      catalogData: {
        description: catalogData.description,
        architectures: catalogData.architectures,
        operatingSystems: catalogData.operatingSystems,
        logoUrl: `${inject("registryUrl")}/gallery-logo/${name}`,
        aboutText: catalogData.aboutText,
        usageText: catalogData.usageText,
      },
    };

    const put = await ecrPublic([
      "put-repository-catalog-data",
      "--repository-name",
      name,
      "--catalog-data",
      `file://${file}`,
    ]);
    expect(put).toEqual(expected);
    expect(await ecrPublic(["get-repository-catalog-data", "--repository-name", name])).toEqual(expected);
  });
});
