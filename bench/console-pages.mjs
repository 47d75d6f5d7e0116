#!/usr/bin/env node
// The web UI's pages (src/console: the gallery and the console) in a real browser: what each
// main page weighs and how long it takes, against the answers a client gets for the same data
// from the registry's own APIs and from the CNCF distribution registry, measured in the same run.
//
//   npm exec -- node bench/console-pages.mjs [--loads N (20)] [--repos R (20)] [--tags T (10)]
//        [--findings F (40)] [--out PATH (bench/work/RESULTS-console-pages.md)]
//
// It starts this registry (`node scripts/start.mjs`, bench mode) and distribution (Debian's
// docker-registry) on 127.0.0.1 with fresh storage, pushes the same repositories to both (R
// repositories of T small tagged images each, made public on this registry so the gallery lists
// them, and one multi-arch index), adds a scanned image with F findings, a lifecycle policy and
// a few users, then loads every page in Debian's Chromium (/usr/bin/chromium, driven by
// playwright-core), N times after two warm-up loads, and every peer answer N times too.
//
// Per page: the document's decoded bytes and bytes on the wire (Navigation Timing's
// decodedBodySize and transferSize, headers included), a first visit's total on the wire (a
// fresh browser context: the stylesheet too), and the medians of the time to the first byte
// (requestStart → responseStart: the server's time plus the loopback), of the whole load
// (navigation start → load event end) and of the server's own time as Miniflare logs it. Peers
// reached with a GET are loaded in the same browser the same way; the ECR API's answers (POST,
// SigV4) are timed with Node's http client, asking for the same compressions as the browser.
// KEEP=1 keeps the temp dir (server state and logs).
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync, brotliDecompressSync, inflateSync } from "node:zlib";
import { CreateRepositoryCommand, SetRepositoryPolicyCommand } from "@aws-sdk/client-ecr";
import { AwsClient } from "aws4fetch";
import { chromium } from "playwright-core";
import { startDistribution, startEdgeRegistry } from "./lib/peers.mjs";
import { benchWorkDir, cpuSnapshot, otherCpu, sleep } from "./lib/proc.mjs";
import { adminCall, ecrClient } from "./lib/registry.mjs";
import { machineInfo } from "./lib/report.mjs";
import { fmt, fmtRatio, median, ratio, table } from "./lib/stats.mjs";
import { tarHeader } from "./lib/images.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
function option(name, fallback) {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = args[at + 1];
  if (typeof fallback === "number") {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 1) throw new Error(`${name} needs a positive number`);
    return Math.round(n);
  }
  return value ?? fallback;
}
if (args.includes("--help") || args.includes("-h")) {
  console.log(
    "npm exec -- node bench/console-pages.mjs [--loads N (20)] [--repos R (20)] [--tags T (10)] [--findings F (40)] [--out PATH]",
  );
  process.exit(0);
}
const opts = {
  loads: option("--loads", 20),
  repos: option("--repos", 20),
  tags: option("--tags", 10),
  findings: option("--findings", 40),
  out: resolve(root, option("--out", "bench/work/RESULTS-console-pages.md")),
};
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
const REGION = "us-east-1";

const startedAt = new Date();
const t0 = performance.now();
const log = (message) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${message}`);

// ---- pushing over the distribution API (both registries) --------------------------------------

const digestOf = (bytes) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

function authOf(peer) {
  return peer.basic ? { Authorization: `Basic ${peer.basic}` } : {};
}

async function putBlob(peer, repo, bytes) {
  const digest = digestOf(bytes);
  const head = await fetch(`${peer.url}/v2/${repo}/blobs/${digest}`, { method: "HEAD", headers: authOf(peer) });
  if (head.status === 200) return digest;
  const started = await fetch(`${peer.url}/v2/${repo}/blobs/uploads/`, { method: "POST", headers: authOf(peer) });
  await started.arrayBuffer();
  const location = started.headers.get("location");
  if (started.status !== 202 || !location) throw new Error(`POST upload to ${peer.name}/${repo}: ${started.status}`);
  const target = new URL(location, peer.url);
  target.searchParams.set("digest", digest);
  const put = await fetch(target, {
    method: "PUT",
    body: bytes,
    headers: { ...authOf(peer), "Content-Type": "application/octet-stream" },
  });
  if (put.status !== 201) throw new Error(`PUT blob to ${peer.name}/${repo}: ${put.status} ${await put.text()}`);
  return digest;
}

async function putManifest(peer, repo, reference, object, mediaType) {
  const bytes = Buffer.from(JSON.stringify(object));
  const put = await fetch(`${peer.url}/v2/${repo}/manifests/${reference}`, {
    method: "PUT",
    body: bytes,
    headers: { ...authOf(peer), "Content-Type": mediaType },
  });
  if (put.status !== 201)
    throw new Error(`PUT manifest ${peer.name}/${repo}:${reference}: ${put.status} ${await put.text()}`);
  return { digest: digestOf(bytes), size: bytes.length };
}

function tarOf(files) {
  const parts = [];
  for (const { name, data } of files) {
    const body = Buffer.from(data);
    parts.push(tarHeader(name, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** One image: a gzip layer of `files`, a config naming `platform` and `label`; its manifest's descriptor. */
async function pushImage(peer, repo, reference, { files, platform = { architecture: "amd64", os: "linux" }, label }) {
  const tar = tarOf(files);
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      ...platform,
      created: new Date().toISOString(),
      config: { Labels: { "org.opencontainers.image.title": label } },
      rootfs: { type: "layers", diff_ids: [digestOf(tar)] },
    }),
  );
  const layerDigest = await putBlob(peer, repo, layer);
  const configDigest = await putBlob(peer, repo, config);
  const manifest = await putManifest(
    peer,
    repo,
    reference,
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: [{ mediaType: LAYER_GZIP, digest: layerDigest, size: layer.length }],
    },
    OCI_MANIFEST,
  );
  return { mediaType: OCI_MANIFEST, ...manifest, platform };
}

// ---- seeding -------------------------------------------------------------------------------------

const PUBLIC_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "Public",
      Effect: "Allow",
      Principal: "*",
      Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
    },
  ],
});
const repoName = (i) => `bench/app-${String(i).padStart(2, "0")}`;
const SEVERITY_VECTORS = [
  "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", // 9.8 critical
  "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", // 7.5 high
  "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", // 6.1 medium
  "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", // 2.0 low
];

async function seed(edge, distribution) {
  const ecr = ecrClient(edge, REGION);
  const files = (repo, tag) => [
    { name: `app/${repo}/${tag}.txt`, data: `${repo}:${tag} ${randomBytes(8).toString("hex")}\n` },
    { name: "app/payload.bin", data: randomBytes(4096) },
  ];
  for (let i = 0; i < opts.repos; i++) {
    const repo = repoName(i);
    await ecr.send(new CreateRepositoryCommand({ repositoryName: repo }));
    await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: repo, policyText: PUBLIC_POLICY }));
    for (let t = 0; t < opts.tags; t++) {
      const tag = `1.${t}`;
      const content = files(repo, tag);
      for (const peer of [edge, distribution])
        await pushImage(peer, repo, tag, { files: content, label: `${repo}:${tag}` });
    }
    if (i % 5 === 4) log(`pushed ${i + 1} of ${opts.repos} repositories`);
  }
  // A multi-arch index in the first repository, on both.
  const multiArch = {};
  for (const peer of [edge, distribution]) {
    const children = [];
    for (const platform of [
      { architecture: "amd64", os: "linux" },
      { architecture: "arm64", os: "linux", variant: "v8" },
    ])
      children.push(
        await pushImage(peer, repoName(0), `multi-${platform.architecture}`, {
          files: [{ name: `app/${platform.architecture}.bin`, data: randomBytes(8192) }],
          platform,
          label: `multi ${platform.architecture}`,
        }),
      );
    multiArch[peer.name] = await putManifest(
      peer,
      repoName(0),
      "multi",
      {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: children,
        annotations: { "org.opencontainers.image.description": "bench index" },
      },
      OCI_INDEX,
    );
  }

  // A scanned image with opts.findings findings (this registry only: distribution does not scan).
  const advisories = [];
  const packages = [];
  for (let f = 0; f < opts.findings; f++) {
    const name = `bench-ui-package-${f}`;
    packages.push({ name: `app/node_modules/${name}/package.json`, data: JSON.stringify({ name, version: "1.0.0" }) });
    advisories.push({
      schema_version: "1.6.0",
      id: `GHSA-bnch-${String(f).padStart(4, "0")}-0000`,
      modified: "2024-01-15T10:00:00Z",
      published: "2023-11-06T16:15:00Z",
      summary: `Advisory ${f} of the console benchmark, with a summary of a realistic length for the findings table.`,
      aliases: [`CVE-2099-${String(20000 + f)}`],
      affected: [
        {
          package: { ecosystem: "npm", name },
          ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "2.0.0" }] }],
        },
      ],
      severity: [{ type: "CVSS_V3", score: SEVERITY_VECTORS[f % SEVERITY_VECTORS.length] }],
      references: [{ type: "ADVISORY", url: `https://example.org/advisories/${f}` }],
    });
  }
  await adminCall(edge, "POST", "/admin/advisories", { advisories });
  const scanned = "bench/scanned";
  await ecr.send(
    new CreateRepositoryCommand({ repositoryName: scanned, imageScanningConfiguration: { scanOnPush: true } }),
  );
  const scannedImage = await pushImage(edge, scanned, "v1", { files: packages, label: "scanned" });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const answer = await ecrCall(edge, "DescribeImageScanFindings", {
      repositoryName: scanned,
      imageId: { imageDigest: scannedImage.digest },
    }).catch((error) => ({ json: { error: error.message } }));
    const status = answer.json?.imageScanStatus?.status;
    if (status === "COMPLETE") break;
    if (Date.now() > deadline) throw new Error(`the scan did not complete: ${JSON.stringify(answer.json)}`);
    await sleep(500);
  }

  // A lifecycle policy keeping the newest half of the second repository's images.
  const lifecycle = repoName(Math.min(1, opts.repos - 1));
  await ecrCall(edge, "PutLifecyclePolicy", {
    repositoryName: lifecycle,
    lifecyclePolicyText: JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: "keep the newest half",
          selection: {
            tagStatus: "any",
            countType: "imageCountMoreThan",
            countNumber: Math.max(1, Math.floor(opts.tags / 2)),
          },
          action: { type: "expire" },
        },
      ],
    }),
  });
  await ecrCall(edge, "StartLifecyclePolicyPreview", { repositoryName: lifecycle });

  for (let u = 0; u < 10; u++) {
    const name = `bench-user-${u}`;
    await adminCall(edge, "POST", "/admin/users", { name });
    await adminCall(edge, "POST", `/admin/users/${name}/access-keys`);
  }
  return { multiArch, scanned, scannedDigest: scannedImage.digest, lifecycle };
}

// ---- the ECR API over node:http (SigV4 with aws4fetch), timed and weighed ------------------------

const ACCEPT_ENCODING = "gzip, deflate, br";

function decode(body, encoding) {
  if (encoding === "gzip") return gunzipSync(body);
  if (encoding === "br") return brotliDecompressSync(body);
  if (encoding === "deflate") return inflateSync(body);
  return body;
}

/** One request with node:http: {status, ttfbMs, totalMs, wireBytes (headers + body), decodedBytes, json}. */
function timedRequest(url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const req = httpRequest(url, { method, headers: { "Accept-Encoding": ACCEPT_ENCODING, ...headers } }, (res) => {
      const ttfbMs = performance.now() - started;
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => {
        const totalMs = performance.now() - started;
        const raw = Buffer.concat(chunks);
        const headerBytes = res.rawHeaders.reduce((n, h, i) => n + h.length + (i % 2 ? 4 : 0), 0) + 17;
        const decoded = decode(raw, res.headers["content-encoding"]);
        let json = null;
        try {
          json = JSON.parse(decoded.toString("utf8"));
        } catch {}
        resolvePromise({
          status: res.statusCode,
          ttfbMs,
          totalMs,
          wireBytes: headerBytes + raw.length,
          decodedBytes: decoded.length,
          json,
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function ecrCall(edge, action, params) {
  const aws = new AwsClient({
    accessKeyId: edge.accessKeyId,
    secretAccessKey: edge.secretAccessKey,
    service: "ecr",
    region: REGION,
  });
  const body = JSON.stringify(params);
  const signed = await aws.sign(`${edge.url}/`, {
    method: "POST",
    body,
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AmazonEC2ContainerRegistry_V20150921.${action}`,
    },
  });
  const headers = Object.fromEntries(signed.headers.entries());
  const answer = await timedRequest(`${edge.url}/`, { method: "POST", headers, body });
  if (answer.status !== 200) throw new Error(`${action}: ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer;
}

// ---- the browser -------------------------------------------------------------------------------

const NAVIGATION_TIMING = `(() => {
  const n = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource").reduce((sum, r) => sum + r.transferSize, 0);
  return { transferSize: n.transferSize, decodedBodySize: n.decodedBodySize, ttfb: n.responseStart - n.requestStart,
    load: n.loadEventEnd - n.startTime, resources };
})()`;

/** Loads `url` in `context`: 2 warm-up loads, then opts.loads measured ones; a fresh context's first visit too. */
async function measurePage(browser, makeContext, url, { expectStatus = 200 } = {}) {
  const cold = await makeContext();
  const coldPage = await cold.newPage();
  const first = await coldPage.goto(url, { waitUntil: "load" });
  if (first?.status() !== expectStatus)
    throw new Error(`${url}: ${first?.status()} (expected ${expectStatus}) at ${coldPage.url()}`);
  const firstTiming = await coldPage.evaluate(NAVIGATION_TIMING);
  await cold.close();

  const context = await makeContext();
  const page = await context.newPage();
  const samples = [];
  for (let i = 0; i < opts.loads + 2; i++) {
    const response = await page.goto(url, { waitUntil: "load" });
    if (response?.status() !== expectStatus) throw new Error(`${url}: ${response?.status()}`);
    const timing = await page.evaluate(NAVIGATION_TIMING);
    if (i >= 2) samples.push(timing);
  }
  await context.close();
  return {
    url,
    status: expectStatus,
    decodedBytes: median(samples.map((s) => s.decodedBodySize)),
    transferBytes: median(samples.map((s) => s.transferSize)),
    firstVisitBytes: firstTiming.transferSize + firstTiming.resources,
    ttfbMs: median(samples.map((s) => s.ttfb)),
    loadMs: median(samples.map((s) => s.load)),
    how: "Chromium",
  };
}

async function measureNode(call) {
  await call();
  await call();
  const samples = [];
  for (let i = 0; i < opts.loads; i++) samples.push(await call());
  return {
    decodedBytes: median(samples.map((s) => s.decodedBytes)),
    transferBytes: median(samples.map((s) => s.wireBytes)),
    firstVisitBytes: NaN,
    ttfbMs: median(samples.map((s) => s.ttfbMs)),
    loadMs: median(samples.map((s) => s.totalMs)),
    how: "Node http",
  };
}

/** Miniflare's request log: `GET /path 200 OK (12ms)` per request; the median per path (and query). */
function serverTimes(logPath) {
  const times = new Map();
  let text = "";
  try {
    text = readFileSync(logPath, "utf8");
  } catch {}
  // eslint-disable-next-line no-control-regex
  for (const line of text.replace(/\x1b\[[0-9;]*m/g, "").split("\n")) {
    const match = /\b(GET|POST|HEAD|PUT) (\S+) (\d{3})\b.*\((\d+(?:\.\d+)?)\s*ms\)/.exec(line);
    if (!match) continue;
    const key = `${match[1]} ${safeDecode(match[2])}`;
    if (!times.has(key)) times.set(key, []);
    times.get(key).push(Number(match[4]));
  }
  return times;
}

// ---- the run -----------------------------------------------------------------------------------

const keep = Boolean(process.env.KEEP);
const { work, cleanupSync } = benchWorkDir("edge-console-bench-", { keep });
let edge;
let distribution;
let browser;
let exitCode = 0;
const rows = [];
const notes = [];
try {
  log(`work dir ${work}`);
  edge = await startEdgeRegistry({ root, dir: join(work, "edge"), keep });
  distribution = await startDistribution({ dir: join(work, "distribution"), keep });
  log(`edge-registry on ${edge.url}, distribution on ${distribution.url}; seeding`);
  const seeded = await seed(edge, distribution);
  log("seeded; starting Chromium");
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const chromiumVersion = browser.version();

  // A signed-in context: the session cookie of one sign-in, copied into each new context.
  const signer = await browser.newContext();
  const signInPage = await signer.newPage();
  await signInPage.goto(`${edge.url}/console/sign-in`);
  await signInPage.fill('input[name="accessKeyId"]', edge.accessKeyId);
  await signInPage.fill('input[name="secretAccessKey"]', edge.secretAccessKey);
  await Promise.all([signInPage.waitForURL(`${edge.url}/console`), signInPage.click('button[type="submit"]')]);
  const cookies = await signer.cookies();
  await signer.close();
  const anonymous = () => browser.newContext();
  const signedIn = async () => {
    const context = await browser.newContext();
    await context.addCookies(cookies);
    return context;
  };
  const withHeaders = (headers) => () => browser.newContext({ extraHTTPHeaders: headers });
  const edgeBasic = { Authorization: `Basic ${edge.basic}` };
  const manifestAccept = { Accept: `${OCI_INDEX}, ${OCI_MANIFEST}` };

  const repo0 = repoName(0);
  const indexDigest = seeded.multiArch["edge-registry"].digest;
  const pages = [
    {
      page: "Gallery: search (all public repositories)",
      url: "/",
      context: anonymous,
      shows: `${opts.repos} public repositories`,
      peers: [
        { label: "distribution `GET /v2/_catalog`", browser: [withHeaders({}), `${distribution.url}/v2/_catalog`] },
        { label: "this registry `GET /v2/_catalog`", browser: [withHeaders(edgeBasic), `${edge.url}/v2/_catalog`] },
      ],
    },
    {
      page: "Gallery: a repository",
      url: `/gallery/${repo0}`,
      context: anonymous,
      shows: `${opts.tags + 3} tags with sizes and platforms`,
      peers: [
        {
          label: "distribution `GET /v2/<name>/tags/list`",
          browser: [withHeaders({}), `${distribution.url}/v2/${repo0}/tags/list`],
        },
        {
          label: "this registry `GET /v2/<name>/tags/list`",
          browser: [withHeaders(edgeBasic), `${edge.url}/v2/${repo0}/tags/list`],
        },
      ],
    },
    {
      page: "Console: sign-in form",
      url: "/console/sign-in",
      context: anonymous,
      shows: "the form",
      peers: [],
    },
    {
      page: "Console: repositories",
      url: "/console",
      context: signedIn,
      shows: `${opts.repos + 1} repositories`,
      peers: [
        { label: "ECR `DescribeRepositories`", node: () => ecrCall(edge, "DescribeRepositories", {}) },
        { label: "distribution `GET /v2/_catalog`", browser: [withHeaders({}), `${distribution.url}/v2/_catalog`] },
      ],
    },
    {
      page: "Console: a repository's images",
      url: `/console/repositories/${repo0}`,
      context: signedIn,
      shows: `${opts.tags + 3} tagged images (one an index), sizes, platforms`,
      peers: [
        {
          label: "ECR `DescribeImages` (filter TAGGED)",
          node: () => ecrCall(edge, "DescribeImages", { repositoryName: repo0, filter: { tagStatus: "TAGGED" } }),
        },
        {
          label: "distribution `GET /v2/<name>/tags/list`",
          browser: [withHeaders({}), `${distribution.url}/v2/${repo0}/tags/list`],
        },
      ],
    },
    {
      page: "Console: an index's image page",
      url: `/console/images/${repo0}@${indexDigest}`,
      context: signedIn,
      shows: "the index, its 2 manifests with sizes, annotations",
      peers: [
        {
          label: "ECR `BatchGetImage` of the index",
          node: () =>
            ecrCall(edge, "BatchGetImage", {
              repositoryName: repo0,
              imageIds: [{ imageDigest: indexDigest }],
              acceptedMediaTypes: [OCI_INDEX],
            }),
        },
        {
          // Node: a navigation's Accept header would not name the index's type, which distribution needs.
          label: "distribution `GET /v2/<name>/manifests/<digest>`",
          node: () =>
            timedRequest(`${distribution.url}/v2/${repo0}/manifests/${seeded.multiArch.distribution.digest}`, {
              headers: manifestAccept,
            }).then((answer) => {
              if (answer.status !== 200) throw new Error(`distribution manifest GET: ${answer.status}`);
              return answer;
            }),
        },
      ],
    },
    {
      page: "Console: scan findings",
      url: `/console/scans?repository=${encodeURIComponent(seeded.scanned)}&digest=${encodeURIComponent(seeded.scannedDigest)}`,
      context: signedIn,
      shows: `${opts.findings} findings and the severity counts`,
      peers: [
        {
          label: "ECR `DescribeImageScanFindings` (one page of 100)",
          node: () =>
            ecrCall(edge, "DescribeImageScanFindings", {
              repositoryName: seeded.scanned,
              imageId: { imageDigest: seeded.scannedDigest },
              maxResults: 100,
            }),
        },
      ],
    },
    {
      page: "Console: lifecycle policy and preview",
      url: `/console/lifecycle?repository=${encodeURIComponent(seeded.lifecycle)}`,
      context: signedIn,
      shows: `the policy and ${opts.tags - Math.max(1, Math.floor(opts.tags / 2))} expiring images`,
      peers: [
        {
          label: "ECR `GetLifecyclePolicyPreview`",
          node: () => ecrCall(edge, "GetLifecyclePolicyPreview", { repositoryName: seeded.lifecycle }),
        },
      ],
    },
    {
      page: "Console: users",
      url: "/console/users",
      context: signedIn,
      shows: "10 users and their keys",
      peers: [{ label: "admin API `GET /admin/users`", browser: [withHeaders(edgeBasic), `${edge.url}/admin/users`] }],
    },
    {
      page: "Console: audit trail",
      url: "/console/audit",
      context: signedIn,
      shows: "the newest audit records (one page)",
      peers: [
        {
          label: "admin API `GET /admin/audit-events`",
          browser: [withHeaders(edgeBasic), `${edge.url}/admin/audit-events`],
        },
      ],
    },
  ];

  const before = cpuSnapshot();
  for (const spec of pages) {
    log(`${spec.page}: ${spec.url}`);
    const measured = await measurePage(browser, spec.context, `${edge.url}${spec.url}`);
    const peers = [];
    for (const peer of spec.peers) {
      const result = peer.node
        ? await measureNode(peer.node)
        : await measurePage(browser, peer.browser[0], peer.browser[1]);
      peers.push({ label: peer.label, ...result });
    }
    rows.push({ ...spec, measured, peers });
  }
  const cpu = otherCpu(before, cpuSnapshot());
  const times = serverTimes(edge.logPath);
  for (const row of rows) {
    const logged =
      times.get(`GET ${safeDecode(row.url)}`) ?? times.get(`GET ${safeDecode(row.url.split("?")[0])}`) ?? [];
    row.measured.serverMs = median(logged.slice(-opts.loads));
  }

  // ---- the report ----
  const machine = Object.fromEntries(machineInfo(root));
  const header = [
    "page (what it shows) / peer",
    "measured with",
    "document decoded bytes",
    "document on the wire, bytes",
    "first visit on the wire, bytes",
    "TTFB median ms",
    "server ms (Miniflare log)",
    "load median ms",
    "page ÷ peer: TTFB",
    "page ÷ peer: bytes on the wire",
  ];
  const cells = [];
  for (const row of rows) {
    const m = row.measured;
    cells.push([
      `**${row.page}** (${row.shows}) \`${row.url.length > 70 ? `${row.url.slice(0, 67)}...` : row.url}\``,
      m.how,
      fmt(m.decodedBytes, 0),
      fmt(m.transferBytes, 0),
      fmt(m.firstVisitBytes, 0),
      fmt(m.ttfbMs, 1),
      fmt(m.serverMs, 0),
      fmt(m.loadMs, 1),
      "",
      "",
    ]);
    for (const peer of row.peers)
      cells.push([
        `↳ ${peer.label}`,
        peer.how,
        fmt(peer.decodedBytes, 0),
        fmt(peer.transferBytes, 0),
        peer.how === "Chromium" ? fmt(peer.firstVisitBytes, 0) : "—",
        fmt(peer.ttfbMs, 1),
        "",
        fmt(peer.loadMs, 1),
        fmtRatio(ratio(m.ttfbMs, peer.ttfbMs)),
        fmtRatio(ratio(m.transferBytes, peer.transferBytes)),
      ]);
  }
  if (cpu.otherShare > 0.1)
    notes.push(
      `Processes outside this script used ${(cpu.otherShare * 100).toFixed(0)} % of the CPUs while the pages were measured: the times are higher than a quiet machine would give.`,
    );
  const markdown = [
    "## Web UI pages in a browser (bench/console-pages.mjs)",
    "",
    `\`node bench/console-pages.mjs\` (\`--loads ${opts.loads} --repos ${opts.repos} --tags ${opts.tags} --findings ${opts.findings}\`), run on ${startedAt.toISOString()} against ${machine["registry code"]}; it took ${((performance.now() - t0) / 1000).toFixed(0)} s. Machine: ${machine.CPU}, ${machine.memory}, ${machine["OS / kernel"]}, node ${process.version}, Chromium ${chromiumVersion} (Debian's, driven by playwright-core ${packageVersion("playwright-core")}), docker-registry (distribution) ${machine["docker-registry (distribution)"].replace(/^.*docker\/distribution /, "")}, wrangler / miniflare / workerd ${machine["wrangler / miniflare / workerd"]}.`,
    "",
    `This registry (\`scripts/start.mjs\`, bench mode, auth on) and distribution (no auth, filesystem storage) hold the same ${opts.repos} repositories of ${opts.tags} small tagged images each (made public here, so the gallery lists them), and the first one a multi-arch index over linux/amd64 and linux/arm64/v8; this registry also holds a scanned image with ${opts.findings} findings, a lifecycle policy on \`${seeded.lifecycle}\` and 10 users. Each page is loaded ${opts.loads} times in one browser context after 2 warm-up loads (the admin signed in for console pages, anonymous for the gallery); "first visit" is one load in a fresh context (the stylesheet included, which later loads take from the cache). Bytes are Navigation Timing's: the document's decoded body, and its bytes on the wire (headers included; the registry compresses HTML for the browser). TTFB is requestStart → responseStart (the server's time plus the loopback); "server ms" is Miniflare's own logged duration of the same requests (median of the measured loads; whole milliseconds); load is navigation start → load event end. Peers answering a GET are loaded in the same browser the same way (JSON shown by Chromium's viewer); the ECR API's answers (POST, SigV4) are timed with Node's http client asking for the same encodings (\`${ACCEPT_ENCODING}\`), their "load" being the whole answer read. Medians of ${opts.loads}.`,
    "",
    table(header, cells),
    "",
    ...notes.map((note) => `- ${note}`),
  ].join("\n");
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${markdown}\n`);
  console.log(markdown);
  log(`results in ${opts.out}`);
} catch (error) {
  exitCode = 1;
  console.error(error?.stack ?? error);
  if (edge) {
    try {
      console.error(readFileSync(edge.logPath, "utf8").split("\n").slice(-30).join("\n"));
    } catch {}
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  for (const peer of [edge, distribution]) if (peer) await peer.stop().catch(() => {});
  cleanupSync();
}
process.exit(exitCode);

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "n/a";
  }
}
