// Workload 2: raw GET throughput of the big layer blob with curl: this registry (bearer token),
// distribution, nginx serving the same file, and this registry's bench-only raw R2 route
// (after a timed `curl -T` PUT of the same bytes).
import { pullHeaders } from "../auth.mjs";
import { curlGet, curlSha256, curlUpload } from "../curl.mjs";
import { monolithicUpload, postPutUpload } from "../registry.mjs";
import { fmt, fmtRatio, median, mibPerSecond, ratio, table } from "../stats.mjs";

const GETS_PER_REP = 5;

export async function runBlobGet(ctx) {
  const { peers, images, opts, log, scratch } = ctx;
  const blob = images.big.layers[0];
  // The blob must be in a repository on both registries: reuse workload 1's, else upload it.
  const repos = {};
  for (const peer of [peers.edge, peers.distribution]) {
    repos[peer.name] = ctx.state.bigRepo[peer.name];
    if (!repos[peer.name]) {
      repos[peer.name] = "bench/blobget";
      if (peer === peers.edge) await monolithicUpload(peer, repos[peer.name], blob, scratch);
      else await postPutUpload(peer, repos[peer.name], blob, scratch);
    }
  }
  const blobUrl = (peer) => `${peer.url}/v2/${repos[peer.name]}/blobs/${blob.digest}`;
  const rawUrl = `${peers.edge.url}/_bench/raw/big`;
  const targets = [
    {
      key: "edge",
      label: "edge-registry blob GET (bearer token)",
      url: () => blobUrl(peers.edge),
      headers: () => pullHeaders(peers.edge, repos["edge-registry"]),
    },
    {
      key: "distribution",
      label: "distribution blob GET",
      url: () => blobUrl(peers.distribution),
      headers: async () => ({}),
    },
    {
      key: "nginx",
      label: "nginx static file (sendfile)",
      url: () => `${peers.nginx.url}/blob`,
      headers: async () => ({}),
    },
    { key: "rawGet", label: "edge-registry raw R2 GET `/_bench/raw`", url: () => rawUrl, headers: async () => ({}) },
  ];
  const samples = { rawPut: [] };
  for (const t of targets) samples[t.key] = [];
  for (let rep = 1; rep <= opts.reps; rep++) {
    const put = await curlUpload(rawUrl, blob.path, { method: "PUT", expectStatus: [201], scratch });
    if (put.bytes !== blob.size) throw new Error(`raw PUT sent ${put.bytes} of ${blob.size} bytes`);
    samples.rawPut.push(put.seconds);
    // GETs are short and noisy: several per repetition, interleaved across the targets.
    for (let i = 0; i < GETS_PER_REP; i++) {
      for (const t of targets) {
        const got = await curlGet(t.url(), { headers: await t.headers(), expectSize: blob.size, scratch });
        samples[t.key].push(got.seconds);
      }
    }
    if (rep === 1) {
      for (const t of targets) {
        const digest = await curlSha256(t.url(), await t.headers());
        if (digest !== blob.digest)
          throw new Error(`${t.label} returned bytes with digest ${digest}, expected ${blob.digest}`);
      }
    }
    log(
      `w2 rep ${rep}: ${Object.entries(samples)
        .map(([k, v]) => `${k} ${v.at(-1).toFixed(2)} s`)
        .join(", ")}`,
    );
  }
  const summary = {};
  for (const [key, values] of Object.entries(samples)) {
    const seconds = median(values);
    summary[key] = {
      seconds,
      mibs: mibPerSecond(blob.size, seconds),
      all: values,
      min: Math.min(...values),
      max: Math.max(...values),
    };
  }
  return {
    summary,
    bytes: blob.size,
    labels: {
      ...Object.fromEntries(targets.map((t) => [t.key, t.label])),
      rawPut: "edge-registry raw R2 PUT `/_bench/raw` (curl -T)",
    },
  };
}

export function reportBlobGet(result) {
  const e = result.summary.edge;
  const rows = ["edge", "distribution", "nginx", "rawGet", "rawPut"].map((key) => {
    const s = result.summary[key];
    return [
      result.labels[key],
      fmt(s.seconds, 3),
      fmt(s.mibs, 1),
      key === "edge" || key === "rawPut" ? "—" : fmtRatio(ratio(e.mibs, s.mibs)),
      s.all.length,
      `${s.min.toFixed(3)} – ${s.max.toFixed(3)}`,
    ];
  });
  return [
    table(["target", "median s", "MiB/s", "edge blob GET ÷ this", "transfers", "fastest – slowest (s)"], rows),
    "",
    `Per repetition: one raw PUT, then ${GETS_PER_REP} GETs of each target, interleaved.`,
  ].join("\n");
}
