// Workload 4: D1 and R2 operations per registry operation, from the bench-only counters
// (`GET /_bench/counters` returns and resets them; it is called right before each operation).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pullHeaders } from "../auth.mjs";
import { buildLayout } from "../images.mjs";
import { sleep } from "../proc.mjs";
import { drainCounters as counters } from "../registry.mjs";
import { skopeoCopy } from "../skopeo.mjs";
import { median, table } from "../stats.mjs";

const FIELDS = ["d1Queries", "d1WriteStatements", "d1RowsRead", "d1RowsWritten", "r2ClassA", "r2ClassB"];

/** Counts for one operation: reset, do it, let deferred work settle, read. */
async function measure(peer, work) {
  await counters(peer);
  await work();
  await sleep(300);
  return counters(peer);
}

export async function runCost(ctx) {
  const { peers, opts, log, scratch } = ctx;
  const edge = peers.edge;
  const layers = opts.costLayers;
  const samples = { pushNew: [], push: [], manifest: [], blobCold: [], blobAgain: [], pull: [] };
  const push = (image, remote) => skopeoCopy(image.ref, remote, { authFile: edge.authFile, scratch });
  for (let rep = 1; rep <= opts.reps; rep++) {
    // A fresh image into a new repository (which the push creates), and another fresh image
    // into that now existing repository: the case the project's cost budget is stated for.
    const first = await buildLayout(
      join(scratch, `cost-first-r${rep}`),
      Array(layers).fill(opts.costLayerBytes),
      "first",
    );
    const image = await buildLayout(
      join(scratch, `cost-image-r${rep}`),
      Array(layers).fill(opts.costLayerBytes),
      "cost",
    );
    const repo = `cost/img-r${rep}`;
    const remote = `docker://${edge.host}/${repo}:cost`;
    samples.pushNew.push(await measure(edge, () => push(first, `docker://${edge.host}/${repo}:first`)));
    samples.push.push(await measure(edge, () => push(image, remote)));
    const headers = await pullHeaders(edge, repo); // token first: its issue is not the GET's cost
    samples.manifest.push(
      await measure(edge, async () => {
        const r = await fetch(`${edge.url}/v2/${repo}/manifests/${image.manifest.digest}`, {
          headers: { ...headers, Accept: "application/vnd.oci.image.manifest.v1+json" },
        });
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`manifest GET ${r.status}`);
      }),
    );
    const blobGet = async () => {
      const r = await fetch(`${edge.url}/v2/${repo}/blobs/${image.layers[0].digest}`, { headers });
      const body = Buffer.from(await r.arrayBuffer());
      if (r.status !== 200 || body.length !== image.layers[0].size)
        throw new Error(`blob GET ${r.status} ${body.length} bytes`);
    };
    samples.blobCold.push(await measure(edge, blobGet));
    samples.blobAgain.push(await measure(edge, blobGet));
    const pullDir = join(scratch, `cost-pull-r${rep}`);
    samples.pull.push(
      await measure(edge, () => skopeoCopy(remote, `oci:${pullDir}:cost`, { authFile: edge.authFile, scratch })),
    );
    for (const dir of [first.dir, image.dir, pullDir]) rmSync(dir, { recursive: true, force: true });
    log(
      `w4 rep ${rep}: ${Object.entries(samples)
        .map(([k, v]) => `${k} ${JSON.stringify(v.at(-1))}`)
        .join("; ")}`,
    );
  }
  const summary = {};
  for (const [op, runs] of Object.entries(samples)) {
    summary[op] = Object.fromEntries(FIELDS.map((f) => [f, median(runs.map((r) => r[f]))]));
    summary[op].all = runs;
  }
  return { summary, layers, layerBytes: opts.costLayerBytes };
}

export function costTargets(result) {
  const n = result.layers;
  const s = result.summary;
  return [
    {
      name: "Manifest GET by digest ≤ 1 D1 query",
      met: s.manifest.d1Queries <= 1,
      detail: `${s.manifest.d1Queries} D1 quer${s.manifest.d1Queries === 1 ? "y" : "ies"}`,
    },
    {
      name: "Blob GET ≤ 1 D1 query and ≤ 1 R2 read (first GET of the blob, not from the edge cache)",
      met: s.blobCold.d1Queries <= 1 && s.blobCold.r2ClassB <= 1,
      detail: `${s.blobCold.d1Queries} D1 quer${s.blobCold.d1Queries === 1 ? "y" : "ies"}, ${s.blobCold.r2ClassB} R2 class B; repeated GET: ${s.blobAgain.d1Queries} D1, ${s.blobAgain.r2ClassB} R2 class B`,
    },
    {
      name: `skopeo push of N = ${n} layers (+ config) into an existing repository ≤ N + 3 = ${n + 3} D1 write statements of its own, besides its audit records (one per write request) and its event`,
      met: ownWrites(s.push) <= n + 3,
      detail: `${ownWrites(s.push)} D1 write statements of its own, ${s.push.d1AuditWriteStatements ?? 0} audit records, ${s.push.d1EventWriteStatements ?? 0} event; the first push, which also creates the repository: ${ownWrites(s.pushNew)} of its own`,
    },
  ];
}

/** A push's write statements other than its audit records, its event and the events' fan-out. */
function ownWrites(counts) {
  return (
    counts.d1WriteStatements -
    (counts.d1AuditWriteStatements ?? 0) -
    (counts.d1EventWriteStatements ?? 0) -
    (counts.d1EventDeliveryWriteStatements ?? 0)
  );
}

export function reportCost(result) {
  const labels = {
    pushNew: `skopeo push of a fresh ${result.layers}-layer image (+ config, manifest) into a new repository`,
    push: `skopeo push of another fresh ${result.layers}-layer image into that repository`,
    manifest: "manifest GET by digest (bearer)",
    blobCold: "blob GET (bearer), first read of the blob",
    blobAgain: "the same blob GET again",
    pull: "skopeo pull of the image",
  };
  const rows = Object.entries(labels).map(([op, label]) => [label, ...FIELDS.map((f) => result.summary[op][f])]);
  const targets = costTargets(result);
  return [
    table(["operation", ...FIELDS], rows),
    "",
    `Layers of ${result.layerBytes} bytes each; medians of ${result.summary.push.all.length} run(s), each with new images and a new repository, in the order of the rows. Token requests that skopeo makes during its push and pull are included in those rows; the registry keeps small blobs in the Workers cache after their first GET (src/distribution/blobs.ts), which is why a repeated blob GET, and the pull of a blob read before, may read no R2 object.`,
    "",
    ...targets.map((t) => `- ${t.name}: **${t.met ? "MET" : "MISSED"}** (${t.detail})`),
  ].join("\n");
}
