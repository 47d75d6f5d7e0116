/**
 * Scale: 500 pushed images queued for a regional replica, drained by replication runs as the
 * every-minute cron makes them. Every run is held to Workers' per-invocation subrequest limit,
 * counted by the bench instrumentation (each D1 query and R2 call, home and replica bucket),
 * and the run's own accounting is checked against those counts. Prints the invocations used.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { drainCounts, instrumentEnv } from "../../src/bench/counters";
import { settingsOf } from "../../src/config/load";
import { DEFAULT_OPERATION_BUDGET, runReplication } from "../../src/replication/run";

const IMAGES = 500;
const ACCOUNT_ID = "123456789012";
/** The older, lower per-invocation subrequest limit of Workers Paid (now 10,000). */
const SUBREQUESTS_PER_INVOCATION = 1000;

async function sha256(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...hash].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

interface SeededImage {
  digest: string;
  blobs: { digest: string; size: number }[];
}

/** Images as pushes leave them (blobs in R2, links, the manifest) plus their replication item. */
async function seed(name: string): Promise<SeededImage[]> {
  const now = Date.now();
  await env.DB.prepare("INSERT INTO repositories (name, created_at) VALUES (?, ?)").bind(name, now).run();
  const images: SeededImage[] = [];
  for (let i = 0; i < IMAGES; i += 1) {
    const config = new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", image: i }));
    const layer = crypto.getRandomValues(new Uint8Array(2048));
    const blobs = [];
    for (const bytes of [config, layer]) {
      const hex = await sha256(bytes);
      await env.BLOBS.put(`blobs/sha256/${hex}`, bytes);
      blobs.push({ digest: `sha256:${hex}`, size: bytes.length });
    }
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...blobs[0] },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...blobs[1] }],
    });
    images.push({ digest: `sha256:${await sha256(new TextEncoder().encode(manifest))}`, blobs });
  }
  const rows = JSON.stringify(
    images.map((image) => ({
      d: image.digest,
      b: JSON.stringify(image.blobs.map((blob) => blob.digest)),
    })),
  );
  const links = JSON.stringify(
    images.flatMap((image) =>
      image.blobs.map((blob) => ({ d: blob.digest, s: blob.size, k: `blobs/${blob.digest.replace(":", "/")}` })),
    ),
  );
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO repository_blobs (repository, digest, size, object_key, linked_at)
       SELECT ?, json_extract(value, '$.d'), json_extract(value, '$.s'), json_extract(value, '$.k'), ? FROM json_each(?)`,
    ).bind(name, now, links),
    env.DB.prepare(
      `INSERT INTO manifests (repository, digest, media_type, size, body, blob_digests, child_digests, pushed_at)
       SELECT ?, json_extract(value, '$.d'), 'application/vnd.oci.image.manifest.v1+json', 2, '{}', json_extract(value, '$.b'), '[]', ? FROM json_each(?)`,
    ).bind(name, now, rows),
    env.DB.prepare(
      `INSERT INTO replication_items (repository, digest, tag, registry_id, region, status, next_attempt_at, created_at, updated_at)
       SELECT ?, json_extract(value, '$.d'), NULL, ?, 'eu-west-1', 'IN_PROGRESS', ?, ?, ? FROM json_each(?)`,
    ).bind(name, ACCOUNT_ID, now, now, now, rows),
  ]);
  return images;
}

function subrequests(counts: ReturnType<typeof drainCounts>): number {
  return counts.d1Queries + counts.r2ClassA + counts.r2ClassB;
}

it(`drains ${IMAGES} queued images within Workers' per-invocation limits`, { timeout: 300_000 }, async () => {
  const images = await seed("drain/app");
  const counted = instrumentEnv(env);
  const settings = settingsOf(env);
  drainCounts();
  const runs: { completed: number; accounted: number; counted: number; ms: number }[] = [];
  for (let invocation = 0; invocation < 50; invocation += 1) {
    const report = await runReplication(counted, settings);
    const real = subrequests(drainCounts());
    runs.push({ completed: report.completed, accounted: report.operations, counted: real, ms: report.durationMs });
    expect(real).toBeLessThanOrEqual(SUBREQUESTS_PER_INVOCATION);
    // The run's accounting never under-counts what it really made.
    expect(report.operations).toBeGreaterThanOrEqual(real);
    expect(report.operations).toBeLessThanOrEqual(DEFAULT_OPERATION_BUDGET + 10);
    expect(report.failed).toBe(0);
    if (report.drained) break;
  }
  const completed = runs.reduce((sum, run) => sum + run.completed, 0);
  console.log(
    `replication drain: ${IMAGES} images (2 blobs each) in ${runs.length} invocations; per invocation: ` +
      runs.map((run) => `${run.completed} images/${run.counted} subrequests/${run.ms} ms`).join(", "),
  );
  expect(completed).toBe(IMAGES);
  // About 11 subrequests an image: 500 images take 7 runs of at most 900, plus the one that finds the backlog empty.
  expect(runs.length).toBeLessThanOrEqual(8);
  const pending = await env.DB.prepare("SELECT count(*) AS n FROM replication_items WHERE status != 'COMPLETE'").first<{
    n: number;
  }>();
  expect(pending?.n).toBe(0);
  for (const image of [images[0]!, images[IMAGES - 1]!]) {
    for (const blob of image.blobs)
      expect(await env.BLOBS_EU_WEST_1.head(`blobs/${blob.digest.replace(":", "/")}`)).not.toBeNull();
  }
});
