// Workload 3: manifest GET by tag and by digest and a small-blob HEAD under autocannon at 1 and
// 16 connections, on this registry (bearer token) and distribution; plus this registry's
// ceilings: a constant route (the local server's own request ceiling) and one that makes a
// single trivial D1 query (the ceiling of any route that must query D1, as a manifest GET does).
import { pullHeaders } from "../auth.mjs";
import { OCI_MANIFEST } from "../images.mjs";
import { load } from "../load.mjs";
import { skopeoCopy } from "../skopeo.mjs";
import { fmt, fmtRatio, ms, ratio, summarizeLoads, table } from "../stats.mjs";

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

/** This runtime's own ceilings: a constant answer, and one after a single trivial D1 query. */
export const CEILINGS = [
  { key: "constant", route: "constant", label: "edge `GET /_bench/constant` (ceiling)" },
  { key: "oneQuery", route: "one-query", label: "edge `GET /_bench/one-query` (ceiling with one D1 query)" },
];

export async function runManifestLoad(ctx) {
  const { peers, images, opts, log } = ctx;
  const image = images.many;
  const repo = "load/img";
  const tag = "t1";
  for (const peer of [peers.edge, peers.distribution]) {
    await skopeoCopy(image.ref, `docker://${peer.host}/${repo}:${tag}`, {
      authFile: peer.authFile,
      scratch: ctx.scratch,
    });
  }
  const endpoints = [
    {
      key: "tag",
      label: "manifest GET by tag",
      method: "GET",
      path: `/v2/${repo}/manifests/${tag}`,
      accept: true,
      body: image.manifest,
    },
    {
      key: "digest",
      label: "manifest GET by digest",
      method: "GET",
      path: `/v2/${repo}/manifests/${image.manifest.digest}`,
      accept: true,
      body: image.manifest,
    },
    {
      key: "head",
      label: `blob HEAD (${image.config.size} B config)`,
      method: "HEAD",
      path: `/v2/${repo}/blobs/${image.config.digest}`,
      accept: false,
    },
  ];
  const headersFor = async (peer, endpoint) => ({
    ...(await pullHeaders(peer, repo)),
    ...(endpoint.accept ? { Accept: MANIFEST_ACCEPT } : {}),
  });
  // Check every endpoint answers as it should before loading it.
  for (const peer of [peers.edge, peers.distribution]) {
    for (const endpoint of endpoints) {
      const response = await fetch(peer.url + endpoint.path, {
        method: endpoint.method,
        headers: await headersFor(peer, endpoint),
      });
      const body = Buffer.from(await response.arrayBuffer());
      const problems = [];
      if (response.status !== 200) problems.push(`status ${response.status}`);
      if (endpoint.body) {
        if (!body.equals(endpoint.body.bytes)) problems.push("manifest bytes differ");
        if (response.headers.get("content-type") !== OCI_MANIFEST)
          problems.push(`Content-Type ${response.headers.get("content-type")}`);
        if (response.headers.get("docker-content-digest") !== image.manifest.digest)
          problems.push("Docker-Content-Digest differs");
      } else if (Number(response.headers.get("content-length")) !== image.config.size)
        problems.push(`Content-Length ${response.headers.get("content-length")}`);
      if (problems.length)
        throw new Error(`${endpoint.method} ${endpoint.path} on ${peer.name}: ${problems.join(", ")}`);
    }
  }
  const samples = {}; // samples[case] = [{rps,p50,p99,...}]
  const record = (key, value) => (samples[key] ??= []).push(value);
  const connectionsList = [1, 16];
  for (let rep = 1; rep <= opts.reps; rep++) {
    for (const connections of connectionsList) {
      for (const endpoint of endpoints) {
        for (const peer of [peers.edge, peers.distribution]) {
          const r = await load({
            url: peer.url + endpoint.path,
            method: endpoint.method,
            headers: await headersFor(peer, endpoint),
            connections,
            seconds: opts.loadSeconds,
          });
          record(`${endpoint.key}|${connections}|${peer.name}`, r);
          log(
            `w3 rep ${rep} ${endpoint.key} c=${connections} ${peer.name}: ${Math.round(r.rps)} req/s p50 ${ms(r.p50)} p99 ${ms(r.p99)} ms${r.non2xx || r.errors ? ` (non-2xx ${r.non2xx}, errors ${r.errors})` : ""}`,
          );
        }
      }
      for (const ceiling of CEILINGS) {
        const r = await load({
          url: `${peers.edge.url}/_bench/${ceiling.route}`,
          connections,
          seconds: opts.loadSeconds,
        });
        record(`${ceiling.key}|${connections}|edge-registry`, r);
        log(
          `w3 rep ${rep} ${ceiling.key} c=${connections}: ${Math.round(r.rps)} req/s p50 ${ms(r.p50)} p99 ${ms(r.p99)} ms`,
        );
      }
    }
  }
  const summary = summarizeLoads(samples);
  return {
    summary,
    endpoints: endpoints.map(({ key, label }) => ({ key, label })),
    connectionsList,
    seconds: opts.loadSeconds,
  };
}

/** The columns of a load comparison table (this registry against distribution). */
export const LOAD_COLUMNS = [
  "endpoint",
  "edge req/s",
  "edge p50 ms",
  "edge p99 ms",
  "distribution req/s",
  "distribution p50 ms",
  "distribution p99 ms",
  "edge ÷ distribution (req/s)",
  "non-2xx + errors",
];

/** One row of LOAD_COLUMNS from summarized loads; `d` null for a route distribution has no peer of. */
export function loadRow(label, e, d) {
  if (d === null) return [label, fmt(e.rps, 0), ms(e.p50), ms(e.p99), "—", "—", "—", "—", e.non2xx + e.errors];
  return [
    label,
    fmt(e.rps, 0),
    ms(e.p50),
    ms(e.p99),
    fmt(d.rps, 0),
    ms(d.p50),
    ms(d.p99),
    fmtRatio(ratio(e.rps, d.rps)),
    e.non2xx + e.errors + d.non2xx + d.errors,
  ];
}

export function reportManifestLoad(result) {
  const rows = [];
  for (const connections of result.connectionsList) {
    for (const endpoint of result.endpoints) {
      const e = result.summary[`${endpoint.key}|${connections}|edge-registry`];
      const d = result.summary[`${endpoint.key}|${connections}|distribution`];
      const [label, ...cells] = loadRow(endpoint.label, e, d);
      rows.push([label, connections, ...cells]);
    }
    for (const ceiling of CEILINGS) {
      const c = result.summary[`${ceiling.key}|${connections}|edge-registry`];
      const [label, ...cells] = loadRow(ceiling.label, c, null);
      rows.push([label, connections, ...cells]);
    }
  }
  const [first, ...rest] = LOAD_COLUMNS;
  return table([first, "conns", ...rest], rows);
}
