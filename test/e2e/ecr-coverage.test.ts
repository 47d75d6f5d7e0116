/**
 * Keeps README's "ECR API coverage" table true: it lists every action of the AWS SDK's ECR
 * client exactly once, and the running registry serves exactly the actions it marks
 * supported or partial (an action it does not serve answers UnknownOperationException).
 * A body of `[]` is refused after the action is looked up, so no call here changes state.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { send, signed } from "./support/signed-request";

const ROOT = join(import.meta.dirname, "..", "..");

function sdkActions(): string[] {
  const require = createRequire(import.meta.url);
  const commands = join(dirname(require.resolve("@aws-sdk/client-ecr/package.json")), "dist-types", "commands");
  return readdirSync(commands)
    .filter((file) => file.endsWith("Command.d.ts"))
    .map((file) => file.replace(/Command\.d\.ts$/, ""))
    .sort();
}

function readmeRows(): Map<string, string> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## ECR API coverage"));
  const body = section.slice(0, section.indexOf("\n## ", 5));
  const rows = new Map<string, string>();
  for (const match of body.matchAll(/^\| ([A-Z][A-Za-z]+) \| (supported|partial|not yet) \|/gm)) {
    expect(rows.has(match[1]!), `${match[1]} is listed twice`).toBe(false);
    rows.set(match[1]!, match[2]!);
  }
  return rows;
}

describe("README's ECR API coverage table", () => {
  it("lists every action of @aws-sdk/client-ecr exactly once", () => {
    expect([...readmeRows().keys()].sort()).toEqual(sdkActions());
  });

  it("matches what the registry serves", async () => {
    const mismatches: string[] = [];
    for (const [action, status] of readmeRows()) {
      const result = await send(await signed({ action, body: "[]" }));
      const served = result.type !== "UnknownOperationException";
      if (served !== (status !== "not yet"))
        mismatches.push(`${action}: README says ${status}, registry answered ${result.type || result.status}`);
    }
    expect(mismatches).toEqual([]);
  });
});
