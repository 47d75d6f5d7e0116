#!/usr/bin/env node
// Does a refused login take the same time whichever access key id it names? And what does a
// throttled attacker cost? (issue 12, item 13.) Timings of a real registry over HTTP, printed,
// not asserted: test/cost/login-costs.test.ts asserts the equal work by counting it.
//
//   npm exec -- node bench/auth-timing.mjs            starts its own registries (fresh state)
//   npm exec -- node bench/auth-timing.mjs --url URL  times a running one (phase 1 only); start it
//        with limits it will not reach, e.g. LOGIN_THROTTLE_KEY_FAILURES=1000000
//        LOGIN_THROTTLE_IP_FAILURES=1000000 npm start, and give the admin key in
//        REGISTRY_ADMIN_ACCESS_KEY_ID / REGISTRY_ADMIN_SECRET_ACCESS_KEY (or it is read from
//        .dev.vars)
//   --samples N (default 200)
//
// Phase 1, throttles on with limits never reached (so every login asks its throttles and every
// failure is counted, as in production): medians of GET /token with Basic credentials and of a
// SigV4-signed ECR call, for an unknown key id and a known key with a wrong secret (the same
// key each time), a fresh unknown id and a fresh existing key never tried before (a new one
// each time, as when probing for key ids), the bootstrap admin's key with a wrong secret, and
// the right secret; plus the right secret on a second registry with the throttles off, to
// show what asking the throttles adds to a successful login. All interleaved round by round.
// Phase 2, default throttles: 240 wrong secrets for one key from one address, 8 at a time, as
// the black-box test did: how many were checked (401) and refused unchecked (429), how long each
// kind took, and whether the right secret is refused while throttled.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AwsClient } from "aws4fetch";
import { newAdminKey, newSecretsKey, newSigningKeyJwk, readDevVars } from "../scripts/dev-vars.mjs";
import { freePort, sleep, startGroup, stopGroup } from "./lib/proc.mjs";
import { median } from "./lib/stats.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
if (args.includes("--help")) {
  console.log("usage: npm exec -- node bench/auth-timing.mjs [--url URL] [--samples N]");
  process.exit(0);
}
const SAMPLES = Number(option("--samples", "200"));
const SERVICE = "edge-registry";

async function startRegistry(throttles) {
  const dir = mkdtempSync(join(tmpdir(), "auth-timing-"));
  const port = await freePort();
  const admin = newAdminKey();
  const child = startGroup(process.execPath, [join(root, "scripts/start.mjs")], {
    cwd: root,
    logPath: join(dir, "server.log"),
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      REGISTRY_STATE_DIR: join(dir, "state"),
      REGISTRY_DEV_VARS: join(dir, "dev.vars"),
      REGISTRY_ADMIN_ACCESS_KEY_ID: admin.id,
      REGISTRY_ADMIN_SECRET_ACCESS_KEY: admin.secret,
      REGISTRY_TOKEN_SIGNING_KEY: JSON.stringify(await newSigningKeyJwk()),
      REGISTRY_SECRETS_KEY: newSecretsKey(),
      ...throttles,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 500) {
    try {
      if ((await fetch(`${url}/v2/`)).status === 401) break;
    } catch {}
    if (waited > 180_000) throw new Error(`the registry did not start; see ${join(dir, "server.log")}`);
    await sleep(500);
  }
  return {
    url,
    admin: { id: admin.id, secret: admin.secret },
    async stop() {
      await stopGroup(child.pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function basic(id, secret) {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
}

async function adminCall(registry, method, path, body) {
  const response = await fetch(`${registry.url}${path}`, {
    method,
    headers: { Authorization: basic(registry.admin.id, registry.admin.secret), "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text === "" ? null : JSON.parse(text);
}

/** `count` users with one access key each and no policy: keys that exist but were never used. */
async function createIdleKeys(registry, count) {
  const keys = [];
  for (let i = 0; i < count; i++) {
    const name = `idle-${Date.now()}-${i}`;
    await adminCall(registry, "POST", "/admin/users", { name });
    keys.push((await adminCall(registry, "POST", `/admin/users/${name}/access-keys`)).accessKeyId);
  }
  return keys;
}

async function createUser(registry, name) {
  await adminCall(registry, "POST", "/admin/users", { name });
  await adminCall(registry, "PUT", `/admin/users/${name}/policies/all`, {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "ecr:*", Resource: "*" }],
  });
  const key = await adminCall(registry, "POST", `/admin/users/${name}/access-keys`);
  return { id: key.accessKeyId, secret: key.secretAccessKey };
}

/** Milliseconds of one request, body read; fails on an unexpected status. */
async function timed(send, expected) {
  const start = performance.now();
  const response = await send();
  await response.arrayBuffer();
  const ms = performance.now() - start;
  if (!expected.includes(response.status))
    throw new Error(
      `expected ${expected.join("/")}, got ${response.status}${response.status === 429 ? " (throttled: raise LOGIN_THROTTLE_*_FAILURES)" : ""}`,
    );
  return { ms, status: response.status };
}

function tokenRequest(registry, authorization) {
  return () =>
    fetch(`${registry.url}/token?service=${SERVICE}&scope=repository:bench/app:pull`, {
      headers: { Authorization: authorization },
    });
}

function ecrRequest(registry, id, secret) {
  const client = new AwsClient({ accessKeyId: id, secretAccessKey: secret, service: "ecr", region: "us-east-1" });
  return () =>
    client.fetch(`${registry.url}/`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRegistry",
      },
      body: "{}",
    });
}

const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

async function phaseTiming(registry, unthrottled) {
  const user = await createUser(registry, `timing-${Date.now()}`);
  const unknownId = () => `AKIA${Math.random().toString(36).slice(2, 18).toUpperCase().padEnd(16, "Q")}`;
  // One unknown id used every time, as the known key's is (the comparison that matters), and a
  // fresh one each time (what probing for key ids looks like: each id is tried once).
  const sameUnknownId = unknownId();
  // Keys that exist but were never tried, one per sample: what a fresh unknown id is compared
  // with (a key id's throttle object is created on its first try, known or not).
  const idleKeys = await createIdleKeys(registry, 2 * (SAMPLES + 10));
  const cases = [
    {
      surface: "Basic GET /token",
      what: "unknown key id",
      send: tokenRequest(registry, basic(sameUnknownId, user.secret)),
      expected: [401],
    },
    {
      surface: "Basic GET /token",
      what: "fresh unknown key id",
      send: () => tokenRequest(registry, basic(unknownId(), user.secret))(),
      expected: [401],
    },
    {
      surface: "Basic GET /token",
      what: "known key, wrong secret",
      send: tokenRequest(registry, basic(user.id, `${user.secret}x`)),
      expected: [401],
    },
    {
      surface: "Basic GET /token",
      what: "fresh known key id",
      send: () => tokenRequest(registry, basic(idleKeys.pop(), user.secret))(),
      expected: [401],
    },
    {
      surface: "Basic GET /token",
      what: "admin key, wrong secret",
      send: tokenRequest(registry, basic(registry.admin.id, `${registry.admin.secret}x`)),
      expected: [401],
    },
    {
      surface: "Basic GET /token",
      what: "known key, right secret",
      send: tokenRequest(registry, basic(user.id, user.secret)),
      expected: [200],
    },
    {
      surface: "SigV4 ECR call",
      what: "unknown key id",
      send: ecrRequest(registry, sameUnknownId, user.secret),
      expected: [403],
    },
    {
      surface: "SigV4 ECR call",
      what: "fresh unknown key id",
      send: () => ecrRequest(registry, unknownId(), user.secret)(),
      expected: [403],
    },
    {
      surface: "SigV4 ECR call",
      what: "known key, wrong secret",
      send: ecrRequest(registry, user.id, `${user.secret.slice(0, -1)}!`),
      expected: [403],
    },
    {
      surface: "SigV4 ECR call",
      what: "fresh known key id",
      send: () => ecrRequest(registry, idleKeys.pop(), user.secret)(),
      expected: [403],
    },
    {
      surface: "SigV4 ECR call",
      what: "admin key, wrong secret",
      send: ecrRequest(registry, registry.admin.id, `${registry.admin.secret}x`),
      expected: [403],
    },
    {
      surface: "SigV4 ECR call",
      what: "known key, right secret",
      send: ecrRequest(registry, user.id, user.secret),
      expected: [200],
    },
  ];
  if (unthrottled) {
    const other = await createUser(unthrottled, `timing-${Date.now()}`);
    cases.push(
      {
        surface: "Basic GET /token",
        what: "right secret, throttles off",
        send: tokenRequest(unthrottled, basic(other.id, other.secret)),
        expected: [200],
      },
      {
        surface: "SigV4 ECR call",
        what: "right secret, throttles off",
        send: ecrRequest(unthrottled, other.id, other.secret),
        expected: [200],
      },
    );
  }
  for (const c of cases) {
    c.times = [];
    for (let i = 0; i < 10; i++) await timed(c.send, c.expected); // warm-up
  }
  for (let round = 0; round < SAMPLES; round++) {
    // Interleaved, in a fresh order each round, so drift and noise fall on every case alike.
    for (const c of [...cases].sort(() => Math.random() - 0.5)) c.times.push((await timed(c.send, c.expected)).ms);
  }
  console.log(`\nPhase 1: logins, ${SAMPLES} samples per case (median / p90, ms)`);
  for (const c of cases) {
    const sorted = [...c.times].sort((a, b) => a - b);
    console.log(
      `  ${c.surface.padEnd(17)} ${c.what.padEnd(27)} ${fmt(median(c.times)).padStart(7)} / ${fmt(sorted[Math.floor(sorted.length * 0.9)]).padStart(7)}`,
    );
  }
  for (const surface of ["Basic GET /token", "SigV4 ECR call"]) {
    const of = (what) => median(cases.find((c) => c.surface === surface && c.what === what).times);
    console.log(
      `  ${surface}: median ratios known-key/unknown-key ${(of("known key, wrong secret") / of("unknown key id")).toFixed(2)}, ` +
        `admin-key/unknown-key ${(of("admin key, wrong secret") / of("unknown key id")).toFixed(2)}, ` +
        `fresh-known-key/fresh-unknown-key ${(of("fresh known key id") / of("fresh unknown key id")).toFixed(2)}` +
        (unthrottled
          ? `; right secret, throttles on/off ${(of("known key, right secret") / of("right secret, throttles off")).toFixed(2)}`
          : ""),
    );
  }
}

async function phaseAttack(registry) {
  const user = await createUser(registry, `attacked-${Date.now()}`);
  const attempts = 240;
  const results = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < attempts) {
        const i = next++;
        results.push(await timed(tokenRequest(registry, basic(user.id, `wrong-${i}`)), [401, 429]));
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const of = (status) => results.filter((r) => r.status === status).map((r) => r.ms);
  const right = await timed(tokenRequest(registry, basic(user.id, user.secret)), [200, 429]);
  console.log(
    `\nPhase 2: ${attempts} wrong secrets for one key, 8 at a time, default throttles (${seconds.toFixed(1)} s)`,
  );
  console.log(`  checked and refused (401): ${of(401).length}, median ${fmt(median(of(401)))} ms`);
  console.log(`  throttled, not checked (429): ${of(429).length}, median ${fmt(median(of(429)))} ms`);
  console.log(`  the right secret right after: ${right.status}`);
}

const registries = [];
try {
  if (args.includes("--url")) {
    const vars = existsSync(join(root, ".dev.vars")) ? readDevVars(join(root, ".dev.vars")) : {};
    const id = process.env.REGISTRY_ADMIN_ACCESS_KEY_ID ?? vars.REGISTRY_ADMIN_ACCESS_KEY_ID;
    const secret = process.env.REGISTRY_ADMIN_SECRET_ACCESS_KEY ?? vars.REGISTRY_ADMIN_SECRET_ACCESS_KEY;
    await phaseTiming({ url: option("--url").replace(/\/$/, ""), admin: { id, secret } });
  } else {
    const never = { LOGIN_THROTTLE_KEY_FAILURES: "1000000", LOGIN_THROTTLE_IP_FAILURES: "1000000" };
    const off = { LOGIN_THROTTLE_KEY_FAILURES: "0", LOGIN_THROTTLE_IP_FAILURES: "0" };
    registries.push(await startRegistry(never), await startRegistry(off));
    await phaseTiming(registries[0], registries[1]);
    for (const registry of registries.splice(0)) await registry.stop();
    registries.push(await startRegistry({}));
    await phaseAttack(registries[0]);
  }
} finally {
  for (const registry of registries) await registry.stop();
}
