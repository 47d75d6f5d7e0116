// Workload 1: skopeo push and pull of the one-big-layer image and the many-layer image,
// against this registry and against distribution, a fresh repository per repetition.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { drainCounters } from "../registry.mjs";
import { skopeoCopy } from "../skopeo.mjs";
import { fmt, fmtRatio, median, mibPerSecond, ratio, table } from "../stats.mjs";

export async function runSkopeoCopy(ctx) {
  const { peers, images, opts, log } = ctx;
  const targets = [peers.edge, peers.distribution];
  const imageList = [images.big, images.many];
  const samples = {}; // samples[image][peer][push|pull] = seconds[]
  const reuse = [];
  const r2Reads = {}; // R2 reads (class B) during each of this registry's pulls
  for (let rep = 1; rep <= opts.reps; rep++) {
    for (const image of imageList) {
      for (const peer of targets) {
        const repo = `bench/${image.key}-r${rep}`;
        const remote = `docker://${peer.host}/${repo}:${image.tag}`;
        const push = await skopeoCopy(image.ref, remote, { authFile: peer.authFile, scratch: ctx.scratch });
        if (push.reused) reuse.push(`${peer.name} ${repo}: ${push.reused} blob(s) skipped`);
        const pullDir = join(ctx.scratch, `pull-${peer.name}-${image.key}-r${rep}`);
        if (peer === peers.edge) await drainCounters(peer);
        const pull = await skopeoCopy(remote, `oci:${pullDir}:${image.tag}`, {
          authFile: peer.authFile,
          scratch: ctx.scratch,
        });
        if (peer === peers.edge) (r2Reads[image.key] ??= []).push((await drainCounters(peer)).r2ClassB);
        const index = JSON.parse(readFileSync(join(pullDir, "index.json"), "utf8"));
        rmSync(pullDir, { recursive: true, force: true });
        if (index.manifests?.[0]?.digest !== image.manifest.digest)
          throw new Error(`pull from ${peer.name} gave a different manifest`);
        const s = ((samples[image.key] ??= {})[peer.name] ??= { push: [], pull: [] });
        s.push.push(push.seconds);
        s.pull.push(pull.seconds);
        log(
          `w1 rep ${rep} ${image.key} ${peer.name}: push ${push.seconds.toFixed(2)} s, pull ${pull.seconds.toFixed(2)} s`,
        );
        if (rep === 1 && image === images.big) ctx.state.bigRepo[peer.name] = repo;
      }
    }
  }
  const summary = {};
  for (const image of imageList) {
    for (const peer of targets) {
      for (const dir of ["push", "pull"]) {
        const seconds = median(samples[image.key][peer.name][dir]);
        ((summary[image.key] ??= {})[peer.name] ??= {})[dir] = {
          seconds,
          mibs: mibPerSecond(image.layerBytes, seconds),
          all: samples[image.key][peer.name][dir],
        };
      }
    }
  }
  return {
    summary,
    reuse,
    r2Reads,
    images: imageList.map((i) => ({
      key: i.key,
      label: i.label,
      layerBytes: i.layerBytes,
      blobs: i.layers.length + 1,
    })),
  };
}

export function reportSkopeoCopy(result) {
  const rows = [];
  for (const image of result.images) {
    for (const dir of ["push", "pull"]) {
      const e = result.summary[image.key]["edge-registry"][dir];
      const d = result.summary[image.key].distribution[dir];
      rows.push([
        image.label,
        dir,
        fmt(e.seconds),
        fmt(e.mibs, 1),
        fmt(d.seconds),
        fmt(d.mibs, 1),
        fmtRatio(ratio(e.mibs, d.mibs)),
        e.all.map((x) => x.toFixed(2)).join(", "),
        d.all.map((x) => x.toFixed(2)).join(", "),
      ]);
    }
  }
  const lines = [
    table(
      [
        "image",
        "op",
        "edge s",
        "edge MiB/s",
        "distribution s",
        "distribution MiB/s",
        "edge ÷ distribution (throughput)",
        "edge runs (s)",
        "distribution runs (s)",
      ],
      rows,
    ),
  ];
  lines.push(
    "",
    `R2 reads (class B, bench counters) during this registry's pulls, per repetition: ${result.images
      .map((i) => `${i.label}: ${result.r2Reads[i.key].join(", ")} (of ${i.blobs} blobs)`)
      .join(
        "; ",
      )}. Fewer reads than blobs means the others came from the registry's Workers cache, filled by an earlier GET of the same digest (the previous repetition's pull from another repository).`,
    "",
    result.reuse.length
      ? `Warning: skopeo reused blobs instead of uploading: ${result.reuse.join("; ")}.`
      : "Every push uploaded every blob (skopeo reported no blob as already present).",
  );
  return lines.join("\n");
}
