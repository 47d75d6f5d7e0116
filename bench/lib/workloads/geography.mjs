// Workload 7: pulls near users, on this registry's simulated geography
// (REGISTRY_SIMULATED_GEOGRAPHY=1, src/bench/simulated-geography.ts). One registry, home region
// us-east-1, with replica buckets in eu-central-1 and ap-southeast-1, a simulated D1 read
// replica and the read caches on (READ_CACHE_SECONDS=30). A 5-layer image is pushed, replicated
// to both regions (the replication job, run now) and the read replica caught up; then a client
// pulls it (manifest, config, every layer, bodies read whole and checked by sha256) from
// Virginia (home), Frankfurt and Singapore, by tag and by digest, in three configurations:
//  - home only: `X-Simulated-Off: r2-replicas,d1-replicas,caches`, every read at home;
//  - replicas: `X-Simulated-Off: caches`, the replica buckets and the D1 read replica on;
//  - replicas + caches: everything on; the second of two pulls is measured (the first fills the
//    caches).
// Each response's `X-Simulated-Trips` gives its trips to the home region and its simulated
// storage latency; a pull sums them over its requests. Beside it, manifest GET by tag and by
// digest at 16 connections with the caches on (no simulated location) against distribution.
// The registry's crons are pushed out of the way (REGISTRY_CRON_INTERVAL_SECONDS=86400).
import { PutReplicationConfigurationCommand } from "@aws-sdk/client-ecr";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { pullHeaders } from "../auth.mjs";
import { buildLayout, MiB, OCI_MANIFEST } from "../images.mjs";
import { load } from "../load.mjs";
import { CEILINGS, LOAD_COLUMNS, loadRow } from "./manifest-load.mjs";
import { startDistribution } from "../peers.mjs";
import { sleep } from "../proc.mjs";
import { skopeoCopy } from "../skopeo.mjs";
import { fmt, fmtRatio, median, ms, ratio, summarizeLoads, table } from "../stats.mjs";
import { ecrClient } from "../registry.mjs";

const ACCOUNT = "000000000000";
const HOME_REGION = "us-east-1";
const REPLICAS = [
  { region: "eu-central-1", binding: "BLOBS_EU_CENTRAL_1" },
  { region: "ap-southeast-1", binding: "BLOBS_AP_SOUTHEAST_1" },
];
const READ_CACHE_SECONDS = 30;
const LAYERS = 5;
const LAYER_MIB = 1;
const REPO = "geo/app";
const TAG = "v1";
const CONNECTIONS = 16;

export const GEO_LOCATIONS = [
  { name: "virginia", note: `home, ${HOME_REGION}`, replica: false },
  { name: "frankfurt", note: "replica bucket eu-central-1", replica: true },
  { name: "singapore", note: "replica bucket ap-southeast-1", replica: true },
];
export const GEO_REFERENCES = ["tag", "digest"];
export const GEO_CONFIGS = [
  { key: "home", label: "home only", off: "r2-replicas,d1-replicas,caches" },
  { key: "replicas", label: "replicas", off: "caches" },
  { key: "cached", label: "replicas + caches", off: null, warm: true },
];

const sha256 = (bytes) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

const ecr = (peer) => ecrClient(peer, HOME_REGION);

async function call(peer, method, path, { admin = false } = {}) {
  const response = await fetch(`${peer.url}${path}`, {
    method,
    headers: admin ? { Authorization: `Basic ${peer.basic}` } : {},
  });
  if (!response.ok) throw new Error(`${method} ${path} on ${peer.url}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Runs the replication job until its backlog is drained with nothing left to retry. */
async function drainReplication(edge, log) {
  const runs = [];
  const started = performance.now();
  for (;;) {
    const { jobs } = await call(edge, "POST", "/admin/jobs/run?job=replication", { admin: true });
    const job = jobs.find((j) => j.job === "replication");
    if (!job?.ok) throw new Error(`the replication job failed: ${JSON.stringify(job)}`);
    runs.push(job.report);
    log(`w7 replication: ${job.summary}`);
    if (job.report.failed > 0) throw new Error(`replication failed: ${job.summary}`);
    if (job.report.drained && job.report.retrying === 0) break;
    if (performance.now() - started > 120_000) throw new Error("replication did not drain within 2 minutes");
    await sleep(1000);
  }
  return {
    runs: runs.length,
    completed: runs.reduce((a, r) => a + r.completed, 0),
    bytesCopied: runs.reduce((a, r) => a + r.bytesCopied, 0),
    seconds: (performance.now() - started) / 1000,
  };
}

function tripsOf(response, what) {
  const header = response.headers.get("x-simulated-trips");
  if (header === null) throw new Error(`${what}: no X-Simulated-Trips header`);
  return JSON.parse(header);
}

/**
 * One pull as a client makes it: the manifest, then every blob, each body read whole and
 * checked. Returns the summed trips home, simulated storage ms, the steps and the wall time.
 */
async function pull(edge, image, { location, reference, off }) {
  const headers = {
    ...(await pullHeaders(edge, REPO)),
    "X-Simulated-Location": location,
    ...(off ? { "X-Simulated-Off": off } : {}),
  };
  const ref = reference === "tag" ? TAG : image.manifest.digest;
  const what = `pull of ${REPO}:${ref} from ${location} (off: ${off ?? "none"})`;
  const trips = [];
  const started = performance.now();
  const manifestResponse = await fetch(`${edge.url}/v2/${REPO}/manifests/${ref}`, {
    headers: { ...headers, Accept: OCI_MANIFEST },
  });
  const manifestBytes = Buffer.from(await manifestResponse.arrayBuffer());
  if (manifestResponse.status !== 200)
    throw new Error(`${what}: manifest ${manifestResponse.status} ${manifestBytes.toString().slice(0, 300)}`);
  if (sha256(manifestBytes) !== image.manifest.digest) throw new Error(`${what}: the manifest's sha256 differs`);
  trips.push(tripsOf(manifestResponse, what));
  const manifest = JSON.parse(manifestBytes.toString());
  let bytes = manifestBytes.length;
  for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
    const response = await fetch(`${edge.url}/v2/${REPO}/blobs/${digest}`, { headers });
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) throw new Error(`${what}: blob ${digest} ${response.status}`);
    if (sha256(body) !== digest) throw new Error(`${what}: blob ${digest}'s sha256 differs`);
    bytes += body.length;
    trips.push(tripsOf(response, what));
  }
  const wallMs = performance.now() - started;
  return {
    home: trips.reduce((a, t) => a + t.home, 0),
    ms: trips.reduce((a, t) => a + t.ms, 0),
    steps: trips.flatMap((t) => t.steps),
    requests: trips.length,
    bytes,
    wallMs,
  };
}

/** "binding@region ×n" for each place a pull's steps went, in order of first use. */
export function stepCounts(steps) {
  const counts = new Map();
  for (const step of steps) {
    const where = step.replace(/=\d+$/, "");
    counts.set(where, (counts.get(where) ?? 0) + 1);
  }
  return [...counts].map(([where, n]) => `${where} ×${n}`).join(", ") || "none";
}

async function manifestLoad(ctx, edge, distribution, image) {
  const { opts, log } = ctx;
  const endpoints = [
    { key: "tag", label: "manifest GET by tag", path: `/v2/${REPO}/manifests/${TAG}` },
    { key: "digest", label: "manifest GET by digest", path: `/v2/${REPO}/manifests/${image.manifest.digest}` },
  ];
  const headersFor = async (peer) => ({ ...(await pullHeaders(peer, REPO)), Accept: OCI_MANIFEST });
  for (const peer of [edge, distribution]) {
    for (const endpoint of endpoints) {
      const response = await fetch(peer.url + endpoint.path, { headers: await headersFor(peer) });
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status !== 200 || !body.equals(image.manifest.bytes))
        throw new Error(`GET ${endpoint.path} on ${peer.name}: status ${response.status}, or the bytes differ`);
    }
  }
  const samples = {};
  for (let rep = 1; rep <= opts.reps; rep++) {
    for (const endpoint of endpoints) {
      for (const peer of [edge, distribution]) {
        const r = await load({
          url: peer.url + endpoint.path,
          headers: await headersFor(peer),
          connections: CONNECTIONS,
          seconds: opts.loadSeconds,
        });
        (samples[`${endpoint.key}|${peer.name}`] ??= []).push(r);
        log(
          `w7 rep ${rep} ${endpoint.key} c=${CONNECTIONS} ${peer.name}: ${Math.round(r.rps)} req/s p50 ${ms(r.p50)} p99 ${ms(r.p99)} ms${r.non2xx || r.errors ? ` (non-2xx ${r.non2xx}, errors ${r.errors})` : ""}`,
        );
      }
    }
    // The runtime's own ceilings in the same run, to read the manifest GETs against.
    for (const ceiling of CEILINGS) {
      const r = await load({
        url: `${edge.url}/_bench/${ceiling.route}`,
        connections: CONNECTIONS,
        seconds: opts.loadSeconds,
      });
      (samples[`${ceiling.key}|edge-registry`] ??= []).push(r);
      log(
        `w7 rep ${rep} ${ceiling.key} c=${CONNECTIONS}: ${Math.round(r.rps)} req/s p50 ${ms(r.p50)} p99 ${ms(r.p99)} ms`,
      );
    }
  }
  const summary = summarizeLoads(samples);
  return {
    seconds: opts.loadSeconds,
    connections: CONNECTIONS,
    endpoints: endpoints.map(({ key, label }) => ({ key, label })),
    summary,
  };
}

export async function runGeography(ctx) {
  const { opts, log, scratch, peers } = ctx;
  const started = [];
  try {
    const edge = await ctx.startEdge("geo", {
      REGISTRY_SIMULATED_GEOGRAPHY: "1",
      REPLICA_REGIONS: REPLICAS.map((r) => `${r.region}=${r.binding}`).join(","),
      READ_CACHE_SECONDS: String(READ_CACHE_SECONDS),
      REGISTRY_ACCOUNT_ID: ACCOUNT,
      REGISTRY_CRON_INTERVAL_SECONDS: "86400",
    });
    started.push(edge);
    log(`w7 edge-registry (simulated geography) on ${edge.url}`);
    let distribution = peers.distribution;
    if (!distribution) {
      distribution = await startDistribution({ dir: join(scratch, "geo-distribution"), keep: opts.keep });
      started.push(distribution);
      log(`w7 distribution on ${distribution.url}`);
    }
    const latency = await call(edge, "GET", "/_bench/geography");
    // Replication first: a push records the work for each destination the configuration names.
    await ecr(edge).send(
      new PutReplicationConfigurationCommand({
        replicationConfiguration: {
          rules: [{ destinations: REPLICAS.map(({ region }) => ({ region, registryId: ACCOUNT })) }],
        },
      }),
    );
    const image = await buildLayout(join(scratch, "geo-image"), Array(LAYERS).fill(LAYER_MIB * MiB), TAG);
    for (const peer of [edge, distribution])
      await skopeoCopy(image.ref, `docker://${peer.host}/${REPO}:${TAG}`, { authFile: peer.authFile, scratch });
    const replication = await drainReplication(edge, log);
    if (replication.completed < REPLICAS.length)
      throw new Error(`replication completed ${replication.completed} item(s), expected ${REPLICAS.length}`);
    const replicaSync = await call(edge, "POST", "/_bench/replica-sync");
    log(`w7 replica-sync: ${JSON.stringify(replicaSync)}`);

    const samples = {}; // samples["location|reference|config"] = [pull]
    for (let rep = 1; rep <= opts.reps; rep++) {
      for (const location of GEO_LOCATIONS) {
        for (const reference of GEO_REFERENCES) {
          for (const config of GEO_CONFIGS) {
            const args = { location: location.name, reference, off: config.off };
            if (config.warm) {
              await pull(edge, image, args);
              await sleep(100); // the cache fills run after each response (waitUntil)
            }
            const p = await pull(edge, image, args);
            (samples[`${location.name}|${reference}|${config.key}`] ??= []).push(p);
            log(
              `w7 rep ${rep} ${location.name} by ${reference}, ${config.label}: ${p.home} trip(s) home, ${p.ms} ms simulated, ${p.wallMs.toFixed(0)} ms wall`,
            );
          }
        }
      }
    }
    const pulls = Object.entries(samples).map(([key, runs]) => {
      const [location, reference, config] = key.split("|");
      const homes = runs.map((r) => r.home);
      return {
        location,
        reference,
        config,
        home: median(homes),
        homeRange: [Math.min(...homes), Math.max(...homes)],
        ms: median(runs.map((r) => r.ms)),
        wallMs: median(runs.map((r) => r.wallMs)),
        requests: runs[0].requests,
        bytes: runs[0].bytes,
        steps: stepCounts(runs[runs.length - 1].steps),
        allWallMs: runs.map((r) => r.wallMs),
      };
    });

    const loadResult = await manifestLoad(ctx, edge, distribution, image);
    return {
      homeRegion: HOME_REGION,
      replicas: REPLICAS,
      readCacheSeconds: READ_CACHE_SECONDS,
      image: { layers: LAYERS, layerMiB: LAYER_MIB, digest: image.manifest.digest, totalBytes: image.totalBytes },
      latency,
      replication,
      replicaSync,
      pulls,
      load: loadResult,
    };
  } finally {
    for (const peer of started.reverse()) await peer.stop();
  }
}

const pullOf = (result, location, reference, config) =>
  result.pulls.find((p) => p.location === location && p.reference === reference && p.config === config);

export function geographyTargets(result) {
  const list = [];
  const withReplica = GEO_LOCATIONS.filter((l) => l.replica).map((l) => l.name);
  const describe = (cases) =>
    cases.map(([location, reference, config, p]) => `${location} by ${reference} (${config}) ${p.home}`).join(", ");
  const byDigest = withReplica.flatMap((location) =>
    ["replicas", "cached"].map((config) => [location, "digest", config, pullOf(result, location, "digest", config)]),
  );
  list.push({
    name: `Pull by digest from a location with a replica (${withReplica.join(", ")}) with replicas on: 0 trips home`,
    met: byDigest.every(([, , , p]) => p.homeRange[1] === 0),
    detail: `trips home per pull: ${describe(byDigest)}`,
  });
  const byTagReplicas = withReplica.map((location) => [
    location,
    "tag",
    "replicas",
    pullOf(result, location, "tag", "replicas"),
  ]);
  const byTagCached = GEO_LOCATIONS.map(({ name }) => [name, "tag", "cached", pullOf(result, name, "tag", "cached")]);
  list.push({
    name: `Pull by tag: at most 1 trip home with replicas on (${withReplica.join(", ")}), 0 with tag caching (every location)`,
    met:
      byTagReplicas.every(([, , , p]) => p.homeRange[1] <= 1) && byTagCached.every(([, , , p]) => p.homeRange[1] === 0),
    detail: `trips home per pull: ${describe([...byTagReplicas, ...byTagCached])}`,
  });
  for (const endpoint of result.load.endpoints) {
    const e = result.load.summary[`${endpoint.key}|edge-registry`];
    const d = result.load.summary[`${endpoint.key}|distribution`];
    const r = ratio(e.rps, d.rps);
    let detail = `${fmt(e.rps, 0)} vs ${fmt(d.rps, 0)} req/s = ${fmtRatio(r)}`;
    if (r < 1) {
      const ceiling = result.load.summary["constant|edge-registry"];
      const oneQuery = result.load.summary["oneQuery|edge-registry"];
      detail += `; in the same run this runtime's constant route reached ${fmt(ceiling.rps, 0)} req/s and a route making one D1 query ${fmt(oneQuery.rps, 0)} req/s`;
      if (endpoint.key === "tag")
        detail +=
          "; a tag's cache entry is kept only in the location tier (the Cache API, src/storage/read-cache.ts), which every request by tag reads, where a digest's entry is answered from the isolate's memory";
    }
    list.push({
      name: `Manifest GET by ${endpoint.key} at ${result.load.connections} connections with the caches on (READ_CACHE_SECONDS=${result.readCacheSeconds}) ≥ 1.0× distribution`,
      met: r >= 1,
      detail,
    });
  }
  return list;
}

export function reportGeography(result) {
  const out = [];
  out.push(
    `One registry started with \`REGISTRY_SIMULATED_GEOGRAPHY=1\`: home region ${result.homeRegion} (D1 primary and the home bucket BLOBS), replica buckets ${result.replicas.map((r) => `${r.binding} in ${r.region}`).join(" and ")}, a simulated D1 read replica, \`READ_CACHE_SECONDS=${result.readCacheSeconds}\`. A request with \`X-Simulated-Location\` is served as if from there, each storage binding it touches answering after its simulated latency:`,
    "",
    "**latency = 5 ms + 1 ms per 100 km of great-circle distance** (round trip). The table (`GET /_bench/geography`, ms):",
    "",
  );
  // Each location has its own nearest D1 replica: one column, "ms (D1 region)".
  const d1 = /^D1 replica \((.*)\)$/;
  const columns = [
    ...new Set(Object.values(result.latency).flatMap((row) => Object.keys(row).filter((k) => !d1.test(k)))),
  ];
  const used = new Set(GEO_LOCATIONS.map((l) => l.name));
  out.push(
    table(
      ["location", ...columns, "nearest D1 read replica"],
      Object.entries(result.latency).map(([location, row]) => {
        const replica = Object.entries(row).find(([k]) => d1.test(k));
        return [
          used.has(location) ? `**${location}**` : location,
          ...columns.map((c) => (row[c] === undefined ? "—" : String(row[c]))),
          replica ? `${replica[1]} (${d1.exec(replica[0])[1]})` : "—",
        ];
      }),
    ),
    "",
  );
  out.push(
    `The image (${result.image.layers} × ${result.image.layerMiB} MiB layers, ${result.image.digest.slice(0, 19)}…) was pushed with skopeo after \`PutReplicationConfiguration\` named both regions; the replication job (\`POST /admin/jobs/run?job=replication\`, ${result.replication.runs} run(s), ${fmt(result.replication.seconds)} s) completed ${result.replication.completed} item(s) and copied ${fmt(result.replication.bytesCopied / MiB, 1)} MiB; \`POST /_bench/replica-sync\` then caught the read replica up (${result.replicaSync.tables} tables, ${result.replicaSync.rows} rows).`,
    "",
    "Each pull is what a client does with a bearer pull token (fetched once, not simulated): the manifest (`Accept: application/vnd.oci.image.manifest.v1+json`), then the config and each layer, one request at a time, bodies read whole and checked by sha256. Trips home and simulated storage ms are summed over the pull's requests from `X-Simulated-Trips`; wall ms is the whole pull on this machine (the simulated latencies plus the registry's own work). Configurations: **home only** `X-Simulated-Off: r2-replicas,d1-replicas,caches`; **replicas** `X-Simulated-Off: caches`; **replicas + caches** nothing off, the second of two pulls 100 ms apart (the first fills the caches; locally the Cache API is one cache for every simulated location, where each Cloudflare location has its own, so a location's first pull may already find what another location's pulls filled). Medians over the repetitions; the last column lists where the last repetition's storage steps went.",
    "",
  );
  const locationNote = Object.fromEntries(GEO_LOCATIONS.map((l) => [l.name, l.note]));
  const configLabel = Object.fromEntries(GEO_CONFIGS.map((c) => [c.key, c.label]));
  out.push(
    table(
      [
        "location",
        "reference",
        "configuration",
        "trips home / pull",
        "simulated storage ms / pull",
        "wall ms / pull",
        "requests",
        "storage steps",
      ],
      result.pulls.map((p) => [
        `${p.location} (${locationNote[p.location]})`,
        p.reference,
        configLabel[p.config],
        p.homeRange[0] === p.homeRange[1] ? String(p.home) : `${p.home} (${p.homeRange[0]}–${p.homeRange[1]})`,
        fmt(p.ms, 0),
        fmt(p.wallMs, 0),
        p.requests,
        p.steps,
      ]),
    ),
    "",
  );
  out.push(
    `Manifest GET at ${result.load.connections} connections with the caches on (no simulated location: no latency added), bearer token, keep-alive, ${result.load.seconds} s per run, medians over the runs, against distribution in the same run:`,
    "",
  );
  out.push(
    table(LOAD_COLUMNS, [
      ...result.load.endpoints.map((endpoint) =>
        loadRow(
          endpoint.label,
          result.load.summary[`${endpoint.key}|edge-registry`],
          result.load.summary[`${endpoint.key}|distribution`],
        ),
      ),
      ...CEILINGS.map((ceiling) => loadRow(ceiling.label, result.load.summary[`${ceiling.key}|edge-registry`], null)),
    ]),
  );
  return out.join("\n");
}
