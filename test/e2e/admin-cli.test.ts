/**
 * The admin CLI (`npm run -s admin -- ...`, scripts/admin.mjs) run as a child process against
 * the test registry, and against a port where nothing listens: help and wrong command lines,
 * one clear line (never a stack trace) for every failure, a line saying what was done for
 * every silent success, readable JSON (ISO times, tags as an object), PORT as the default
 * registry, repositories managed through the ECR API (SigV4-signed with the admin key), and
 * `run-jobs` running lifecycle expiry now.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PutLifecyclePolicyCommand } from "@aws-sdk/client-ecr";
import { describe, expect, inject, it } from "vitest";
import { useTempDir } from "./support/context";
import { ecrClient, uniqueName } from "./support/ecr";
import { freePort } from "./support/process-groups";
import { KEEP_ONE_IMAGE, manifestStatus, pushTinyImage } from "./support/tiny-image";

const ROOT = resolve(import.meta.dirname, "../..");
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with the test registry's admin credentials; `--url` is the test registry unless `url` is null. */
function admin(
  args: string[],
  options: { url?: string | null; env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  const url = options.url === undefined ? inject("registryUrl") : options.url;
  const env: Record<string, string | undefined> = {
    ...process.env,
    REGISTRY_ADMIN_ACCESS_KEY_ID: inject("adminAccessKeyId"),
    REGISTRY_ADMIN_SECRET_ACCESS_KEY: inject("adminSecretAccessKey"),
    REGISTRY_URL: undefined,
    PORT: undefined,
    ...options.env,
  };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  return new Promise((resolvePromise) => {
    const child = execFile(
      process.execPath,
      [join(ROOT, "scripts/admin.mjs"), ...(url === null ? [] : ["--url", url]), ...args],
      { cwd: ROOT, env, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolvePromise({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.stdin ?? "");
  });
}

/** A failure: exactly one line on stderr, no stack trace, nothing on stdout. */
function expectOneLine(run: Run, code: number, message: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(message);
  expect(run.stderr.trim().split("\n")).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

const temp = useTempDir("admin-cli-");

describe("admin CLI command lines", () => {
  it.each([["--help"], ["-h"], ["help"]])("%s prints the usage on stdout and exits 0", async (arg) => {
    const run = await admin([arg], { url: null });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run -s admin -- \[--url URL\] <command>/);
    expect(run.stdout).toContain("run-jobs");
    expect(run.stdout).toContain("REGISTRY_URL");
    expect(run.stderr).toBe("");
  });

  it("says what was wrong: no command, an unknown command, a missing or extra argument (exit 2)", async () => {
    for (const [args, message] of [
      [[], /^admin: no command given\n\nusage:/],
      [["frob"], /^admin: unknown command "frob"\n\nusage:/],
      [["create-user"], /^admin: create-user needs <name>\n/],
      [["delete-key", "alice"], /^admin: delete-key needs <user> <access-key-id>\n/],
      [["list-users", "extra"], /^admin: list-users takes no arguments; "extra" is one too many\n/],
      [["set-repository", "a/b", "--frozen"], /^admin: set-repository does not take "--frozen"\n/],
      [["set-repository", "a/b", "--except", "dev-*"], /^admin: --except needs --immutable or --mutable\n/],
      [["set-repository", "a/b", "--immutable", "--except"], /^admin: --except needs a tag filter\n/],
      [["--url"], /^admin: --url needs a URL\n/],
    ] as const) {
      const run = await admin([...args]);
      expect(run.code, `${args.join(" ")}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe("");
    }
  });
});

describe("admin CLI failures are one line", () => {
  it("when nothing listens at the registry's address", async () => {
    const port = await freePort();
    const run = await admin(["list-users"], { url: `http://127.0.0.1:${port}` });
    expectOneLine(
      run,
      1,
      /^admin: cannot reach the registry at http:\/\/127\.0\.0\.1:\d+ \(connection refused\): is the registry running \(npm start\)\?/,
    );
  });

  it("when a policy file is missing, is a directory, or is not JSON", async () => {
    expectOneLine(
      await admin(["put-user-policy", "nobody", "p", join(temp.path, "missing.json")]),
      1,
      /^admin: cannot read \S+missing\.json: no such file\n$/,
    );
    expectOneLine(
      await admin(["set-repository-policy", "a/b", temp.path]),
      1,
      /^admin: cannot read \S+: it is a directory\n$/,
    );
    const notJson = join(temp.path, "policy.json");
    writeFileSync(notJson, "{ nope");
    expectOneLine(await admin(["put-user-policy", "nobody", "p", notJson]), 1, /^admin: \S+policy\.json is not JSON: /);
  });

  it("when the registry refuses, with its message", async () => {
    const name = uniqueName("cli-dup");
    expect((await admin(["create-user", name])).code).toBe(0);
    expectOneLine(
      await admin(["create-user", name]),
      1,
      new RegExp(`^admin: create-user: 409 user ${name} already exists\\n$`),
    );
    expectOneLine(
      await admin(["show-user", uniqueName("nobody")]),
      1,
      /^admin: show-user: 404 user \S+ does not exist\n$/,
    );
  });

  it("when the credentials are not this registry's", async () => {
    const run = await admin(["list-users"], {
      env: { REGISTRY_ADMIN_ACCESS_KEY_ID: "AKIANOTAKEY", REGISTRY_ADMIN_SECRET_ACCESS_KEY: "wrong" },
    });
    expectOneLine(run, 1, /^admin: list-users: 401 .*\(the admin credentials were refused/);
    const signed = await admin(["show-repository", "a/b"], {
      env: { REGISTRY_ADMIN_ACCESS_KEY_ID: "AKIANOTAKEY", REGISTRY_ADMIN_SECRET_ACCESS_KEY: "wrong" },
    });
    expectOneLine(signed, 1, /^admin: show-repository: \d+ .*\(the admin credentials were refused/);
  });
});

describe("admin CLI results", () => {
  it("says what was done for deletions and policies, and shows readable JSON", async () => {
    const user = uniqueName("cli-user");
    const created = await admin(["create-user", user]);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({ name: user, arn: `arn:aws:iam::000000000000:user/${user}` });

    const policy = join(temp.path, "policy.json");
    writeFileSync(
      policy,
      JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ecr:*", Resource: "*" }] }),
    );
    expect(await admin(["put-user-policy", user, "all", policy])).toMatchObject({
      code: 0,
      stdout: `Put policy all on user ${user}.\n`,
    });
    expect(await admin(["put-user-policy", user, "again", "-"], { stdin: readFileSync(policy, "utf8") })).toMatchObject(
      { code: 0, stdout: `Put policy again on user ${user}.\n` },
    );

    const shown = JSON.parse((await admin(["show-user", user])).stdout) as {
      createdAt: string;
      policies: { name: string }[];
    };
    expect(shown.createdAt).toMatch(ISO);
    expect(shown.policies.map((entry) => entry.name).sort()).toEqual(["again", "all"]);

    const key = JSON.parse((await admin(["create-key", user])).stdout) as { accessKeyId: string };
    expect(await admin(["delete-key", user, key.accessKeyId])).toMatchObject({
      code: 0,
      stdout: `Deleted access key ${key.accessKeyId} of user ${user}.\n`,
    });
    expect(await admin(["delete-user-policy", user, "again"])).toMatchObject({
      code: 0,
      stdout: `Removed policy again from user ${user}.\n`,
    });
    expect(await admin(["delete-user", user])).toMatchObject({
      code: 0,
      stdout: `Deleted user ${user}, with its access keys and policies.\n`,
    });

    const repository = `${uniqueName("cli")}/app`;
    const set = await admin(["set-repository", repository, "--immutable", "--tag", "team=a=b"]);
    expect(set.code, set.stderr).toBe(0);
    const row = JSON.parse(set.stdout) as { tags: unknown; createdAt: string; imageTagMutability: string };
    expect(row.tags).toEqual({ team: "a=b" });
    expect(row.createdAt).toMatch(ISO);
    expect(row.imageTagMutability).toBe("IMMUTABLE");
    const excepted = await admin([
      "set-repository",
      repository,
      "--immutable",
      "--except",
      "latest",
      "--except",
      "dev-*",
    ]);
    expect(excepted.code, excepted.stderr).toBe(0);
    expect(JSON.parse(excepted.stdout)).toMatchObject({
      imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
      imageTagMutabilityExclusionFilters: [
        { filterType: "WILDCARD", filter: "latest" },
        { filterType: "WILDCARD", filter: "dev-*" },
      ],
    });
    expectOneLine(
      await admin(["set-repository", repository, "--mutable", "--except", "a/b"]),
      1,
      /^admin: set-repository: 400 .*must satisfy regular expression/,
    );
    // An existing repository keeps what the command line does not change; tags are added.
    const retagged = await admin(["set-repository", repository, "--tag", "owner=ops"]);
    expect(retagged.code, retagged.stderr).toBe(0);
    expect(JSON.parse(retagged.stdout)).toMatchObject({
      imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
      tags: { team: "a=b", owner: "ops" },
    });
    expect(JSON.parse((await admin(["show-repository", repository])).stdout)).toMatchObject({
      repositoryName: repository,
      tags: { team: "a=b", owner: "ops" },
    });
    expectOneLine(
      await admin(["show-repository", `${uniqueName("cli-none")}/app`]),
      1,
      /^admin: show-repository: 400 The repository with name '\S+' does not exist/,
    );

    const repositoryPolicy = {
      Version: "2012-10-17",
      Statement: [{ Sid: "Public", Effect: "Allow", Principal: "*", Action: ["ecr:BatchGetImage"] }],
    };
    expect(
      await admin(["set-repository-policy", repository, "-"], { stdin: JSON.stringify(repositoryPolicy) }),
    ).toMatchObject({
      code: 0,
      stdout: `Set the repository policy of ${repository}.\n`,
    });
    expect(JSON.parse((await admin(["get-repository-policy", repository])).stdout)).toEqual(repositoryPolicy);
    expect(await admin(["delete-repository-policy", repository])).toMatchObject({
      code: 0,
      stdout: `Removed the repository policy of ${repository}.\n`,
    });

    // The ECR lock-out guard: a policy refusing the admin the next change needs --force.
    const lockout = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Principal: "*", Action: "ecr:SetRepositoryPolicy" }],
    });
    expectOneLine(
      await admin(["set-repository-policy", repository, "-"], { stdin: lockout }),
      1,
      /^admin: set-repository-policy: 400 .*would prevent you from setting another policy/,
    );
    expect(await admin(["set-repository-policy", repository, "-", "--force"], { stdin: lockout })).toMatchObject({
      code: 0,
    });
    expect(JSON.parse((await admin(["get-repository-policy", repository])).stdout)).toEqual(JSON.parse(lockout));
  });

  it("talks to http://localhost:$PORT without --url", async () => {
    const port = new URL(inject("registryUrl")).port;
    const run = await admin(["list-users"], { url: null, env: { PORT: port } });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty("users");
    // And says where it tried when that is wrong.
    const elsewhere = String(await freePort());
    expectOneLine(
      await admin(["list-users"], { url: null, env: { PORT: elsewhere } }),
      1,
      new RegExp(`cannot reach the registry at http://localhost:${elsewhere} `),
    );
  });

  it("run-jobs expires an image by its lifecycle policy now, and prints what each job did", async () => {
    const url = inject("registryUrl");
    const authorization = inject("adminAuthorization");
    const repository = `${uniqueName("cli-jobs")}/app`;
    const older = await pushTinyImage(url, authorization, repository, "v1");
    await new Promise((r) => setTimeout(r, 20));
    const newer = await pushTinyImage(url, authorization, repository, "v2");
    await ecrClient().send(
      new PutLifecyclePolicyCommand({ repositoryName: repository, lifecyclePolicyText: KEEP_ONE_IMAGE }),
    );

    const run = await admin(["run-jobs"]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(
      /^lifecycle: \d+ repositor(y|ies) with a policy, \d+ images? evaluated, [1-9]\d* expired \(sweep complete\) \(\d+ ms\)$/,
    );
    expect(lines[1]).toMatch(
      /^garbage-collection: \d+ blob links? removed, \d+ objects? marked, \d+ deleted \(\d+ bytes? reclaimed; sweep complete\) \(\d+ ms\)$/,
    );
    // The e2e registry names no ADVISORY_SOURCES: the advisories job has nothing to fetch.
    expect(lines[2]).toMatch(/^advisories: 0 sources: 0 records fetched, 0 imported \(\d+ ms\)$/);
    expect(lines[3]).toMatch(
      /^audit: \d+ records? exported in \d+ objects?, \d+ deleted past retention \((caught up|continues next run)\) \(\d+ ms\)$/,
    );
    expect(lines[4]).toMatch(/^replication: \d+ items? attempted: .*backlog drained\) \(\d+ ms\)$/);
    expect(lines[5]).toMatch(
      /^events: \d+ events? fanned out to \d+ deliver(y|ies), \d+ overdue re-sent, \d+ pruned past retention \(\d+ ms\)$/,
    );
    expect(await manifestStatus(url, authorization, repository, older)).toBe(404);
    expect(await manifestStatus(url, authorization, repository, newer)).toBe(200);

    const jobs = JSON.parse((await admin(["jobs"])).stdout) as {
      lifecycle: { startedAt: string };
      garbageCollection: { startedAt: string };
    };
    expect(jobs.lifecycle.startedAt).toMatch(ISO);
    expect(jobs.garbageCollection.startedAt).toMatch(ISO);
  });
});
