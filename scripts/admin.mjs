#!/usr/bin/env node
// `npm run -s admin -- <command> ...`: manages users, access keys and policies of a running
// registry through its admin API (/admin, Basic credentials), its repositories through its
// ECR API (POST / with X-Amz-Target, SigV4-signed with the same key), and runs its scheduled
// jobs.
// Credentials: REGISTRY_ADMIN_ACCESS_KEY_ID and REGISTRY_ADMIN_SECRET_ACCESS_KEY from the
// environment, else from .dev.vars (or $REGISTRY_DEV_VARS). The registry: --url, else
// $REGISTRY_URL, else http://localhost:$PORT (8787).
// Results go to stdout (JSON, or one line saying what was done); every failure is one line on
// stderr and exit 1 (2 for a command line that is wrong), never a stack trace.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AwsClient } from "aws4fetch";
import { readDevVars } from "./dev-vars.mjs";
import { osvRecords } from "./osv-files.mjs";

const COMMANDS = {
  "list-users": { args: "", help: "list users" },
  "create-user": { args: "<name>", help: "create a user" },
  "show-user": { args: "<name>", help: "a user's policies and access key ids" },
  "delete-user": { args: "<name>", help: "delete a user with its keys and policies" },
  "create-key": { args: "<user>", help: "create an access key (the secret is shown once)" },
  "delete-key": { args: "<user> <access-key-id>", help: "delete an access key" },
  "put-user-policy": { args: "<user> <name> <file|->", help: "attach an identity policy (JSON)" },
  "delete-user-policy": { args: "<user> <name>", help: "remove an identity policy" },
  "set-repository": {
    args: "<repo> [--immutable|--mutable [--except FILTER ...]] [--tag key=value ...]",
    help: "create a repository / change its settings (--except: tags matching FILTER, * a wildcard, get the opposite)",
  },
  "show-repository": { args: "<repo>", help: "a repository's settings" },
  "set-repository-policy": {
    args: "<repo> <file|-> [--force]",
    help: "set a repository policy (JSON; --force: even one that would refuse you the next change)",
  },
  "get-repository-policy": { args: "<repo>", help: "show a repository policy" },
  "delete-repository-policy": { args: "<repo>", help: "remove a repository policy" },
  "login-password": { args: "", help: "password for `docker login -u AWS` (12 hours)" },
  jobs: { args: "", help: "what the last lifecycle run and garbage collection did" },
  "run-jobs": {
    args: "",
    help: "run every scheduled job now (lifecycle expiry, garbage collection, advisories, audit export, replication, event deliveries)",
  },
  advisories: {
    args: "import <file|dir|zip> | status",
    help: "import OSV advisories (JSON files, directories, OSV.dev zip archives), or count them",
  },
};

const USAGE = `usage: npm run -s admin -- [--url URL] <command> [arguments]

${Object.entries(COMMANDS)
  .map(([name, { args, help }]) => {
    const left = `  ${name} ${args}`.trimEnd();
    return left.length < 46 ? `${left.padEnd(46)}${help}` : `${left}\n${" ".repeat(46)}${help}`;
  })
  .join("\n")}

The registry: --url URL, else $REGISTRY_URL, else http://localhost:$PORT (PORT defaults to 8787).
Credentials: REGISTRY_ADMIN_ACCESS_KEY_ID and REGISTRY_ADMIN_SECRET_ACCESS_KEY, from the
environment or else from .dev.vars (npm start writes it).`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** One line on stderr, exit 1 (2: the command line is wrong). */
function fail(message, code = 1) {
  console.error(`admin: ${message}`);
  process.exit(code);
}

function usageError(message) {
  console.error(`admin: ${message}\n\n${USAGE}`);
  process.exit(2);
}

// Options before or after the command: --url URL, --url=URL, -h/--help.
const args = [];
let url = process.env.REGISTRY_URL ?? `http://localhost:${process.env.PORT ?? "8787"}`;
const argv = process.argv.slice(2);
for (let index = 0; index < argv.length; index++) {
  const arg = argv[index];
  if (arg === "-h" || arg === "--help") {
    console.log(USAGE);
    process.exit(0);
  }
  if (arg === "--url" || arg.startsWith("--url=")) {
    const value = arg === "--url" ? argv[++index] : arg.slice("--url=".length);
    if (!value) usageError("--url needs a URL");
    url = value;
  } else args.push(arg);
}
url = url.replace(/\/+$/, "");
try {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
} catch {
  fail(`"${url}" is not an http(s) URL (--url or REGISTRY_URL)`, 2);
}

const [command, ...rest] = args;
if (command === undefined) usageError("no command given");
if (command === "help") {
  console.log(USAGE);
  process.exit(0);
}
if (!Object.hasOwn(COMMANDS, command)) usageError(`unknown command "${command}"`);

// set-repository-policy's --force, wherever it is on the line.
const force = command === "set-repository-policy" && rest.includes("--force");
if (force) rest.splice(rest.indexOf("--force"), 1);

function need(count) {
  const spec = COMMANDS[command];
  if (rest.length < count) usageError(`${command} needs ${spec.args}`);
  // set-repository's options after the name are checked where they are read.
  if (command !== "set-repository" && rest.length > count)
    usageError(`${command} takes ${spec.args || "no arguments"}; "${rest[count]}" is one too many`);
}

function adminKey() {
  let id = process.env.REGISTRY_ADMIN_ACCESS_KEY_ID;
  let secret = process.env.REGISTRY_ADMIN_SECRET_ACCESS_KEY;
  const devVars = resolve(root, process.env.REGISTRY_DEV_VARS ?? ".dev.vars");
  if ((!id || !secret) && existsSync(devVars)) {
    const vars = readDevVars(devVars);
    id ||= vars.REGISTRY_ADMIN_ACCESS_KEY_ID;
    secret ||= vars.REGISTRY_ADMIN_SECRET_ACCESS_KEY;
  }
  if (!id || !secret)
    fail(
      "no admin credentials: set REGISTRY_ADMIN_ACCESS_KEY_ID and REGISTRY_ADMIN_SECRET_ACCESS_KEY, or run npm start once to create .dev.vars",
    );
  return { id, secret };
}

function credentials() {
  const { id, secret } = adminKey();
  return `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
}

/** The text of a JSON document from a file or stdin (`-`), checked to be JSON. */
function readDocument(source) {
  let text;
  try {
    text = source === "-" ? readFileSync(0, "utf8") : readFileSync(source, "utf8");
  } catch (error) {
    fail(
      `cannot read ${source === "-" ? "standard input" : source}: ${error.code === "ENOENT" ? "no such file" : error.code === "EISDIR" ? "it is a directory" : error.message}`,
    );
  }
  try {
    JSON.parse(text);
  } catch (error) {
    fail(`${source === "-" ? "standard input" : source} is not JSON: ${error.message}`);
  }
  return text;
}

/** The message of an error answer (OCI `errors`, AWS `message`), else its text. */
function errorMessage(text) {
  try {
    const body = JSON.parse(text);
    return body?.errors?.[0]?.message ?? body?.message ?? text;
  } catch {
    return text.trim() || "(no body)";
  }
}

/**
 * The answer of a request as JSON (null when empty); a refusal is one line on stderr and exit 1,
 * unless `tolerated` names its ECR error type (then the answer is `{ __type }`).
 */
async function answer(send, refusedHint, tolerated = null) {
  let response;
  try {
    response = await send();
  } catch (error) {
    const cause = error.cause?.code ?? error.cause?.message ?? error.message;
    const hint =
      cause === "ECONNREFUSED"
        ? " (connection refused): is the registry running (npm start)? --url or REGISTRY_URL names another"
        : `: ${cause}`;
    fail(`cannot reach the registry at ${url}${hint}`);
  }
  const text = await response.text();
  if (!response.ok) {
    if (tolerated !== null && errorType(text) === tolerated) return { __type: tolerated };
    fail(`${command}: ${response.status} ${errorMessage(text)}${refusedHint(response.status, text)}`);
  }
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    fail(`${command}: ${url} answered something that is not JSON: is it this registry?`);
  }
}

/** The `__type` of an AWS JSON error answer, else null. */
function errorType(text) {
  try {
    return JSON.parse(text)?.__type ?? null;
  } catch {
    return null;
  }
}

const REFUSED_HINT =
  " (the admin credentials were refused: are they this registry's? see REGISTRY_ADMIN_ACCESS_KEY_ID)";

/** One admin API call with Basic credentials. */
async function call(method, path, body) {
  const headers = { Authorization: credentials() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return answer(
    () => fetch(`${url}${path}`, { method, headers, body, signal: AbortSignal.timeout(120_000) }),
    (status) => (status === 401 ? REFUSED_HINT : ""),
  );
}

/**
 * One ECR action (AWS JSON 1.1, `POST /`), signed with SigV4 by the admin key as the AWS CLI
 * signs it (the registry takes any region in the credential scope).
 */
async function ecr(action, input, tolerated = null) {
  const { id, secret } = adminKey();
  const client = new AwsClient({ accessKeyId: id, secretAccessKey: secret, service: "ecr", region: "us-east-1" });
  const request = () =>
    client.fetch(`${url}/`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AmazonEC2ContainerRegistry_V20150921.${action}`,
      },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(120_000),
    });
  const refusedKey = (_status, text) =>
    ["UnrecognizedClientException", "InvalidSignatureException"].includes(errorType(text)) ? REFUSED_HINT : "";
  return answer(request, refusedKey, tolerated);
}

/** Records per POST /admin/advisories (the endpoint takes 1,000 and 4 MiB at most). */
const ADVISORY_BATCH = 200;
const ADVISORY_BATCH_BYTES = 3 * 1024 * 1024;

/** Sends every OSV record under `path` in batches; prints the totals, exit 1 if any was rejected. */
async function importAdvisories(path) {
  const totals = { received: 0, imported: 0, unchanged: 0, rejected: 0, rescans: 0 };
  let batch = [];
  let bytes = 0;
  let sentBefore = 0;
  const send = async () => {
    if (batch.length === 0) return;
    const report = await call("POST", "/admin/advisories", JSON.stringify({ advisories: batch }));
    for (const key of ["received", "imported", "unchanged", "rescans"]) totals[key] += report[key];
    for (const rejected of report.rejected) {
      totals.rejected += 1;
      console.error(
        `advisories: record ${sentBefore + rejected.index + 1}${rejected.id ? ` (${rejected.id})` : ""} rejected: ${rejected.reason}`,
      );
    }
    sentBefore += batch.length;
    batch = [];
    bytes = 0;
  };
  try {
    for (const record of osvRecords(path)) {
      const size = JSON.stringify(record).length;
      if (batch.length >= ADVISORY_BATCH || bytes + size > ADVISORY_BATCH_BYTES) await send();
      batch.push(record);
      bytes += size;
    }
  } catch (error) {
    fail(`cannot read ${path}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
  }
  await send();
  console.log(
    `${totals.received} records: ${totals.imported} imported, ${totals.unchanged} unchanged, ${totals.rejected} rejected; ${totals.rescans} images being re-matched`,
  );
  if (totals.rejected > 0) process.exit(1);
}

/**
 * A repository as `show-repository` prints it: ECR's description with its creation time as an
 * ISO 8601 string, its tag mutability exclusion filters (none: []) and its tags as an object.
 */
async function showRepository(name) {
  const { repositories } = await ecr("DescribeRepositories", { repositoryNames: [name] });
  const [repository] = repositories;
  const { tags } = await ecr("ListTagsForResource", { resourceArn: repository.repositoryArn });
  return {
    ...repository,
    createdAt: new Date(repository.createdAt * 1000).toISOString(),
    imageTagMutabilityExclusionFilters: repository.imageTagMutabilityExclusionFilters ?? [],
    tags: Object.fromEntries(tags.map(({ Key, Value }) => [Key, Value])),
  };
}

const print = (value) => console.log(JSON.stringify(value, null, 2));
const segment = (value) => encodeURIComponent(value);

switch (command) {
  case "list-users":
    need(0);
    print(await call("GET", "/admin/users"));
    break;
  case "create-user":
    need(1);
    print(await call("POST", "/admin/users", JSON.stringify({ name: rest[0] })));
    break;
  case "show-user":
    need(1);
    print(await call("GET", `/admin/users/${segment(rest[0])}`));
    break;
  case "delete-user":
    need(1);
    await call("DELETE", `/admin/users/${segment(rest[0])}`);
    console.log(`Deleted user ${rest[0]}, with its access keys and policies.`);
    break;
  case "create-key":
    need(1);
    print(await call("POST", `/admin/users/${segment(rest[0])}/access-keys`));
    break;
  case "delete-key":
    need(2);
    await call("DELETE", `/admin/users/${segment(rest[0])}/access-keys/${segment(rest[1])}`);
    console.log(`Deleted access key ${rest[1]} of user ${rest[0]}.`);
    break;
  case "put-user-policy": {
    need(3);
    const document = readDocument(rest[2]);
    await call("PUT", `/admin/users/${segment(rest[0])}/policies/${segment(rest[1])}`, document);
    console.log(`Put policy ${rest[1]} on user ${rest[0]}.`);
    break;
  }
  case "delete-user-policy":
    need(2);
    await call("DELETE", `/admin/users/${segment(rest[0])}/policies/${segment(rest[1])}`);
    console.log(`Removed policy ${rest[1]} from user ${rest[0]}.`);
    break;
  case "set-repository": {
    need(1);
    const body = {};
    const tags = {};
    const except = [];
    for (let i = 1; i < rest.length; i++) {
      if (rest[i] === "--immutable") body.imageTagMutability = "IMMUTABLE";
      else if (rest[i] === "--mutable") body.imageTagMutability = "MUTABLE";
      else if (rest[i] === "--except" && rest[i + 1] !== undefined && !rest[i + 1].startsWith("--"))
        except.push(rest[++i]);
      else if (rest[i] === "--tag" && rest[i + 1]?.includes("=")) {
        const [key, ...value] = rest[++i].split("=");
        tags[key] = value.join("=");
      } else
        usageError(
          rest[i] === "--tag"
            ? "--tag needs key=value"
            : rest[i] === "--except"
              ? "--except needs a tag filter"
              : `set-repository does not take "${rest[i]}"`,
        );
    }
    if (except.length > 0) {
      // ECR's _WITH_EXCLUSION settings: the filters' tags get the opposite of the setting.
      if (body.imageTagMutability === undefined) usageError("--except needs --immutable or --mutable");
      body.imageTagMutability += "_WITH_EXCLUSION";
      body.imageTagMutabilityExclusionFilters = except.map((filter) => ({ filterType: "WILDCARD", filter }));
    }
    const name = rest[0];
    const tagList = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    // Create it with the settings, or change the settings given of the one that exists.
    const created = await ecr(
      "CreateRepository",
      { repositoryName: name, ...body, tags: tagList },
      "RepositoryAlreadyExistsException",
    );
    if (created.__type === "RepositoryAlreadyExistsException") {
      if (body.imageTagMutability !== undefined) await ecr("PutImageTagMutability", { repositoryName: name, ...body });
      if (tagList.length > 0) {
        const { repositories } = await ecr("DescribeRepositories", { repositoryNames: [name] });
        await ecr("TagResource", { resourceArn: repositories[0].repositoryArn, tags: tagList });
      }
    }
    print(await showRepository(name));
    break;
  }
  case "show-repository":
    need(1);
    print(await showRepository(rest[0]));
    break;
  case "set-repository-policy": {
    need(2);
    const document = readDocument(rest[1]);
    await ecr("SetRepositoryPolicy", {
      repositoryName: rest[0],
      policyText: document,
      ...(force ? { force: true } : {}),
    });
    console.log(`Set the repository policy of ${rest[0]}.`);
    break;
  }
  case "get-repository-policy": {
    need(1);
    const { policyText } = await ecr("GetRepositoryPolicy", { repositoryName: rest[0] });
    print(JSON.parse(policyText));
    break;
  }
  case "delete-repository-policy":
    need(1);
    await ecr("DeleteRepositoryPolicy", { repositoryName: rest[0] });
    console.log(`Removed the repository policy of ${rest[0]}.`);
    break;
  case "login-password": {
    need(0);
    const token = await call("GET", "/admin/authorization-token");
    console.log(Buffer.from(token.authorizationToken, "base64").toString("utf8").slice("AWS:".length));
    break;
  }
  case "jobs":
    need(0);
    print(await call("GET", "/admin/jobs"));
    break;
  case "advisories": {
    if (rest[0] === "status") {
      need(1);
      print(await call("GET", "/admin/advisories"));
      break;
    }
    if (rest[0] !== "import") usageError("advisories needs import <file|dir|zip> or status");
    need(2);
    await importAdvisories(rest[1]);
    break;
  }
  case "run-jobs": {
    need(0);
    const { jobs } = await call("POST", "/admin/jobs/run");
    for (const job of jobs) console.log(`${job.job}: ${job.summary} (${job.durationMs} ms)`);
    if (jobs.some((job) => !job.ok)) process.exit(1);
    break;
  }
}
