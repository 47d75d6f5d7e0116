#!/usr/bin/env node
// `npm run admin -- <command> ...`: manages users, access keys and policies of a running
// registry through its admin API. Credentials: REGISTRY_ADMIN_ACCESS_KEY_ID and
// REGISTRY_ADMIN_SECRET_ACCESS_KEY from the environment, else from .dev.vars. The registry:
// --url, else $REGISTRY_URL, else http://localhost:8787.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readDevVars } from "./dev-vars.mjs";

const USAGE = `usage: npm run admin -- [--url URL] <command> [arguments]

  list-users                                  list users
  create-user <name>                          create a user
  show-user <name>                            a user's policies and access key ids
  delete-user <name>                          delete a user with its keys and policies
  create-key <user>                           create an access key (the secret is shown once)
  delete-key <user> <access-key-id>           delete an access key
  put-user-policy <user> <name> <file|->      attach an identity policy (JSON)
  delete-user-policy <user> <name>            remove an identity policy
  set-repository <repo> [--immutable|--mutable] [--tag key=value ...]
                                              create a repository / change its settings
  set-repository-policy <repo> <file|->       set a repository policy (JSON)
  get-repository-policy <repo>                show a repository policy
  delete-repository-policy <repo>             remove a repository policy
  login-password                              password for \`docker login -u AWS\` (12 hours)`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
let url = process.env.REGISTRY_URL ?? "http://localhost:8787";
const urlFlag = args.indexOf("--url");
if (urlFlag >= 0) {
  url = args[urlFlag + 1];
  args.splice(urlFlag, 2);
}

function credentials() {
  let id = process.env.REGISTRY_ADMIN_ACCESS_KEY_ID;
  let secret = process.env.REGISTRY_ADMIN_SECRET_ACCESS_KEY;
  const devVars = join(root, ".dev.vars");
  if ((!id || !secret) && existsSync(devVars)) {
    const vars = readDevVars(devVars);
    id ??= vars.REGISTRY_ADMIN_ACCESS_KEY_ID;
    secret ??= vars.REGISTRY_ADMIN_SECRET_ACCESS_KEY;
  }
  if (!id || !secret) fail("no admin credentials: set REGISTRY_ADMIN_ACCESS_KEY_ID and REGISTRY_ADMIN_SECRET_ACCESS_KEY (or run npm start once to create .dev.vars)");
  return `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

function readDocument(source) {
  if (!source) fail(USAGE);
  const text = source === "-" ? readFileSync(0, "utf8") : readFileSync(source, "utf8");
  try {
    JSON.parse(text);
  } catch (error) {
    fail(`${source} is not JSON: ${error.message}`);
  }
  return text;
}

async function call(method, path, body) {
  const headers = { Authorization: credentials() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${url}${path}`, { method, headers, body });
  const text = await response.text();
  if (!response.ok) fail(`${method} ${path}: ${response.status} ${text}`);
  return text === "" ? null : JSON.parse(text);
}

const print = (value) => console.log(JSON.stringify(value, null, 2));
const [command, ...rest] = args;
const need = (count) => {
  if (rest.length < count) fail(USAGE);
};

switch (command) {
  case "list-users":
    print(await call("GET", "/admin/users"));
    break;
  case "create-user":
    need(1);
    print(await call("POST", "/admin/users", JSON.stringify({ name: rest[0] })));
    break;
  case "show-user":
    need(1);
    print(await call("GET", `/admin/users/${encodeURIComponent(rest[0])}`));
    break;
  case "delete-user":
    need(1);
    await call("DELETE", `/admin/users/${encodeURIComponent(rest[0])}`);
    break;
  case "create-key":
    need(1);
    print(await call("POST", `/admin/users/${encodeURIComponent(rest[0])}/access-keys`));
    break;
  case "delete-key":
    need(2);
    await call("DELETE", `/admin/users/${encodeURIComponent(rest[0])}/access-keys/${encodeURIComponent(rest[1])}`);
    break;
  case "put-user-policy":
    need(3);
    await call("PUT", `/admin/users/${encodeURIComponent(rest[0])}/policies/${encodeURIComponent(rest[1])}`, readDocument(rest[2]));
    break;
  case "delete-user-policy":
    need(2);
    await call("DELETE", `/admin/users/${encodeURIComponent(rest[0])}/policies/${encodeURIComponent(rest[1])}`);
    break;
  case "set-repository": {
    need(1);
    const body = {};
    const tags = {};
    for (let i = 1; i < rest.length; i++) {
      if (rest[i] === "--immutable") body.imageTagMutability = "IMMUTABLE";
      else if (rest[i] === "--mutable") body.imageTagMutability = "MUTABLE";
      else if (rest[i] === "--tag" && rest[i + 1]?.includes("=")) {
        const [key, ...value] = rest[++i].split("=");
        tags[key] = value.join("=");
      } else fail(USAGE);
    }
    if (Object.keys(tags).length > 0) body.tags = tags;
    print(await call("PUT", `/admin/repositories/${rest[0]}`, JSON.stringify(body)));
    break;
  }
  case "set-repository-policy":
    need(2);
    print(await call("PUT", `/admin/repository-policies/${rest[0]}`, readDocument(rest[1])));
    break;
  case "get-repository-policy":
    need(1);
    print(await call("GET", `/admin/repository-policies/${rest[0]}`));
    break;
  case "delete-repository-policy":
    need(1);
    print(await call("DELETE", `/admin/repository-policies/${rest[0]}`));
    break;
  case "login-password": {
    const token = await call("GET", "/admin/authorization-token");
    console.log(Buffer.from(token.authorizationToken, "base64").toString("utf8").slice("AWS:".length));
    break;
  }
  default:
    fail(USAGE);
}
