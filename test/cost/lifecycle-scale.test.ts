/**
 * Scale: 20,000 images in one repository evaluated and expired by the scheduled lifecycle run
 * (through the Worker's scheduled handler). Prints the time and the D1 work, counted by the
 * bench instrumentation, and holds the run to Workers' per-invocation limits: D1 queries made
 * by the Worker's invocation itself (each Durable Object call is an invocation of its own).
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { drainCounts } from "../../src/bench/counters";
import worker from "../../src/index";

const DAY = 24 * 60 * 60 * 1000;
const IMAGES = 20_000;
/** Workers Paid allows 1,000 subrequests (D1 queries among them) per invocation. */
const QUERIES_PER_INVOCATION = 1000;

it(
  `evaluates ${IMAGES.toLocaleString("en")} images in one repository within one invocation's limits`,
  { timeout: 600_000 },
  async () => {
    const name = "scale/app";
    const now = Date.now();
    await env.DB.prepare("INSERT INTO repositories (name, created_at, lifecycle_policy) VALUES (?, ?, ?)")
      .bind(
        name,
        now,
        JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: "untagged after 30 days",
              selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 30 },
              action: { type: "expire" },
            },
            {
              rulePriority: 2,
              description: "keep 1000 builds",
              selection: {
                tagStatus: "tagged",
                tagPrefixList: ["build-"],
                countType: "imageCountMoreThan",
                countNumber: 1000,
              },
              action: { type: "expire" },
            },
          ],
        }),
      )
      .run();
    // Image i was pushed i hours ago; even images carry a tag build-<i>.
    const CHUNK = 2000;
    for (let start = 0; start < IMAGES; start += CHUNK) {
      const rows = Array.from({ length: Math.min(CHUNK, IMAGES - start) }, (_, k) => {
        const i = start + k;
        return { d: `sha256:${i.toString(16).padStart(64, "0")}`, t: now - i * 3_600_000 };
      });
      await env.DB.prepare(
        `INSERT INTO manifests (repository, digest, media_type, size, body, pushed_at)
       SELECT ?, json_extract(value, '$.d'), 'application/vnd.oci.image.manifest.v1+json', 2, '{}', json_extract(value, '$.t') FROM json_each(?)`,
      )
        .bind(name, JSON.stringify(rows))
        .run();
      const tagged = rows
        .filter((_, k) => (start + k) % 2 === 0)
        .map((row, k) => ({ d: row.d, g: `build-${start + 2 * k}` }));
      await env.DB.prepare(
        `INSERT INTO tags (repository, tag, digest, updated_at) SELECT ?, json_extract(value, '$.g'), json_extract(value, '$.d'), ? FROM json_each(?)`,
      )
        .bind(name, now, JSON.stringify(tagged))
        .run();
    }
    const untaggedOld = Array.from({ length: IMAGES }, (_, i) => i).filter(
      (i) => i % 2 === 1 && i * 3_600_000 > 30 * DAY,
    ).length;
    const taggedBeyond = IMAGES / 2 - 1000;

    drainCounts();
    const started = Date.now();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/15 * * * *", scheduledTime: now }), env, ctx);
    await waitOnExecutionContext(ctx);
    const elapsed = Date.now() - started;
    const counts = drainCounts();

    const left = await env.DB.prepare("SELECT count(*) AS n FROM manifests WHERE repository = ?")
      .bind(name)
      .first<{ n: number }>();
    const audited = await env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE repository = ?")
      .bind(name)
      .first<{ n: number }>();
    const expired = untaggedOld + taggedBeyond;
    const doCalls = Math.ceil(expired / 200);
    console.log(
      `[lifecycle scale] ${IMAGES} images, ${expired} expired in ${elapsed} ms; D1 (Worker and Durable Object together): ` +
        `${counts.d1Queries} queries, ${counts.d1RowsRead} rows read, ${counts.d1RowsWritten} rows written; ${doCalls} Durable Object calls of 200 images`,
    );
    expect(left?.n).toBe(IMAGES - expired);
    expect(audited?.n).toBe(expired);
    // Each Durable Object call makes 5 queries of its own (4 reads and deletes, and the events
    // of the expiries in the delete's batch); what is left is the Worker's invocation.
    const workerQueries = counts.d1Queries - doCalls * 5;
    expect(workerQueries).toBeLessThan(QUERIES_PER_INVOCATION / 4);
  },
);
