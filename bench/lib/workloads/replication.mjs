// Workload 6: replication of an image with one large layer from one registry (A) to another
// (B), both this registry started with `npm start` as two accounts, against what a user would
// do instead: `skopeo copy docker://A/... docker://B/...` between the same two registries.
// Each repetition pushes the image to a new repository of A (not timed), then times
//  - replication: `POST /admin/jobs/run?job=replication` on A (the cron's job, run now) until B serves the
//    manifest, with A's workerd memory growth meanwhile (VmHWM after minus RSS before);
//  - skopeo: a copy of the same image from A to a new repository of B.
// A's own crons are pushed out of the way (REGISTRY_CRON_INTERVAL_SECONDS=86400), so only the
// timed run replicates.
import { PutRegistryPolicyCommand, PutReplicationConfigurationCommand } from "@aws-sdk/client-ecr";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildLayout, MiB } from "../images.mjs";
import { groupPidsNamed, memoryMiB, resetPeaks, sleep } from "../proc.mjs";
import { skopeoCopy } from "../skopeo.mjs";
import { fmt, fmtRatio, median, mibPerSecond, ratio, table } from "../stats.mjs";
import { adminCall, ecrClient } from "../registry.mjs";

const A_ACCOUNT = "111111111111";
const B_ACCOUNT = "222222222222";
const REGION = "us-east-1";

const ecr = (peer) => ecrClient(peer);

/** A trusts B's account... the other way round: B lets A's account replicate into it. */
async function connect(a, b) {
  const key = await adminCall(b, "PUT", `/admin/peer-accounts/${A_ACCOUNT}`);
  await ecr(b).send(
    new PutRegistryPolicyCommand({
      policyText: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${A_ACCOUNT}:root` },
            Action: ["ecr:ReplicateImage", "ecr:CreateRepository"],
            Resource: `arn:aws:ecr:${REGION}:${B_ACCOUNT}:repository/*`,
          },
        ],
      }),
    }),
  );
  await adminCall(a, "PUT", `/admin/replication/destinations/${B_ACCOUNT}`, {
    endpoint: b.url,
    username: key.accessKeyId,
    password: key.secretAccessKey,
  });
  await ecr(a).send(
    new PutReplicationConfigurationCommand({
      replicationConfiguration: {
        rules: [
          {
            destinations: [{ region: REGION, registryId: B_ACCOUNT }],
            repositoryFilters: [{ filter: "repl/", filterType: "PREFIX_MATCH" }],
          },
        ],
      },
    }),
  );
}

async function manifestPresent(peer, repo, tag) {
  const response = await fetch(`${peer.url}/v2/${repo}/manifests/${tag}`, {
    method: "HEAD",
    headers: { Authorization: `Basic ${peer.basic}`, Accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  return response.status === 200;
}

export async function runReplication(ctx) {
  const { opts, log, scratch } = ctx;
  const env = { REGISTRY_CRON_INTERVAL_SECONDS: "86400" };
  const a = await ctx.startEdge("replication-a", { ...env, REGISTRY_ACCOUNT_ID: A_ACCOUNT });
  const b = await ctx.startEdge("replication-b", { ...env, REGISTRY_ACCOUNT_ID: B_ACCOUNT });
  try {
    await connect(a, b);
    const image = await buildLayout(join(scratch, "replication-image"), [opts.replMiB * MiB], "v1");
    // skopeo copies A → B with one auth file holding both registries' credentials.
    const authFile = join(scratch, "replication-auth.json");
    writeFileSync(authFile, JSON.stringify({ auths: { [a.host]: { auth: a.basic }, [b.host]: { auth: b.basic } } }), {
      mode: 0o600,
    });
    const samples = { replication: [], skopeo: [], growthMiB: [] };
    for (let rep = 1; rep <= opts.reps; rep++) {
      const repo = `repl/app-r${rep}`;
      await skopeoCopy(image.ref, `docker://${a.host}/${repo}:v1`, { authFile, scratch });
      const pids = groupPidsNamed(a.pgid, "workerd");
      const before = memoryMiB(pids, "VmRSS").sumMiB;
      resetPeaks(pids);
      const started = performance.now();
      const jobs = await adminCall(a, "POST", "/admin/jobs/run?job=replication");
      const replicationJob = jobs.jobs.find((job) => job.job === "replication");
      while (!(await manifestPresent(b, repo, "v1"))) {
        if (performance.now() - started > 15 * 60_000) throw new Error(`${repo} did not reach B within 15 minutes`);
        await sleep(100);
      }
      const seconds = (performance.now() - started) / 1000;
      const growth = memoryMiB(pids).sumMiB - before;
      samples.replication.push(seconds);
      samples.growthMiB.push(growth);
      const copy = await skopeoCopy(`docker://${a.host}/${repo}:v1`, `docker://${b.host}/skopeo/app-r${rep}:v1`, {
        authFile,
        scratch,
      });
      samples.skopeo.push(copy.seconds);
      log(
        `w6 rep ${rep}: replication ${seconds.toFixed(2)} s (${replicationJob?.summary ?? "no report"}), A's workerd grew ${growth.toFixed(0)} MiB; skopeo copy ${copy.seconds.toFixed(2)} s`,
      );
    }
    const replication = median(samples.replication);
    const skopeo = median(samples.skopeo);
    return {
      sizeMiB: opts.replMiB,
      bytes: image.layerBytes,
      samples,
      replication: { seconds: replication, mibs: mibPerSecond(image.layerBytes, replication) },
      skopeo: { seconds: skopeo, mibs: mibPerSecond(image.layerBytes, skopeo) },
      ratio: ratio(skopeo, replication),
      growthMiB: Math.max(...samples.growthMiB),
    };
  } finally {
    await a.stop();
    await b.stop();
  }
}

export function replicationTargets(result) {
  return [
    {
      name: `Replication A → B at least as fast as skopeo copy A → B (${result.sizeMiB} MiB layer)`,
      met: result.ratio >= 1,
      detail: `replication ${fmt(result.replication.seconds)} s vs skopeo ${fmt(result.skopeo.seconds)} s = ${fmtRatio(result.ratio)}`,
    },
    {
      name: "The replicating registry's memory grows by at most 64 MiB while it copies the layer",
      met: result.growthMiB <= 64,
      detail: `largest growth of A's workerd processes over the repetitions: ${fmt(result.growthMiB, 0)} MiB`,
    },
  ];
}

export function reportReplication(result) {
  return [
    table(
      ["way", "s", "MiB/s", "runs (s)"],
      [
        [
          "replication (A's cron job)",
          fmt(result.replication.seconds),
          fmt(result.replication.mibs, 1),
          result.samples.replication.map((x) => x.toFixed(2)).join(", "),
        ],
        [
          "skopeo copy A → B",
          fmt(result.skopeo.seconds),
          fmt(result.skopeo.mibs, 1),
          result.samples.skopeo.map((x) => x.toFixed(2)).join(", "),
        ],
      ],
    ),
    "",
    `skopeo ÷ replication (time): ${fmtRatio(result.ratio)}. Memory growth of A's workerd processes during each replication (VmHWM after minus VmRSS before): ${result.samples.growthMiB.map((x) => fmt(x, 0)).join(", ")} MiB.`,
  ].join("\n");
}
