/**
 * Bench-only routes (REGISTRY_BENCH_MODE=1), used by bench/ to measure the runtime's own
 * ceilings next to the registry: a raw R2 put/get of the same bytes, a constant response
 * (the local server's request ceiling) with and without one trivial D1 query, a layer read
 * without the scanner's inventory work, and the operation counters. 404 otherwise.
 */
import { Hono } from "hono";
import { createTarDecoder } from "modern-tar";
import type { AppEnv } from "../app-env";
import { OciError, RegistryError } from "../errors";
import { findBlobLink } from "../storage/blob-links";
import { drainCounts } from "./counters";
import { latencyTable, simulatedReplica } from "./simulated-geography";
import { copyDatabase } from "./simulated-replica";

export const benchRoutes = new Hono<AppEnv>();

benchRoutes.use("*", async (c, next) => {
  if (!c.var.settings.benchMode)
    throw new RegistryError(OciError.NOT_FOUND, `no resource at ${new URL(c.req.url).pathname}`);
  await next();
});

benchRoutes.get("/counters", (c) => c.json(drainCounts()));

benchRoutes.get("/constant", (c) => c.text("ok"));

/** The simulated latencies (ms) of each storage binding from each simulated location. */
benchRoutes.get("/geography", (c) => c.json(latencyTable(c.var.settings)));

/** The simulated D1 read replica catches up with the primary (src/bench/simulated-replica.ts). */
benchRoutes.post("/replica-sync", async (c) => {
  const replica = simulatedReplica(c.env);
  if (replica === null) throw new RegistryError(OciError.NOT_FOUND, "no SIMULATED_D1_REPLICA binding");
  return c.json(await copyDatabase(c.env.DB, replica));
});

/** A constant answer after one trivial D1 query: the ceiling of any route that must query D1. */
benchRoutes.get("/one-query", async (c) => {
  await c.env.DB.prepare("SELECT 1 AS one").first();
  return c.text("ok");
});

benchRoutes.put("/raw/:key", async (c) => {
  const body = c.req.raw.body;
  if (body === null) throw new RegistryError(OciError.SIZE_INVALID, "body required");
  await c.env.BLOBS.put(`bench/${c.req.param("key")}`, body);
  return c.body(null, 201);
});

benchRoutes.get("/raw/:key", async (c) => {
  const object = await c.env.BLOBS.get(`bench/${c.req.param("key")}`);
  if (object === null) throw new RegistryError(OciError.BLOB_UNKNOWN, "no such object");
  return new Response(object.body, {
    headers: { "Content-Length": String(object.size), "Content-Type": "application/octet-stream" },
  });
});

/**
 * The scan benchmark's ceiling (bench/lib/workloads/scanning.mjs): one layer of a repository,
 * `POST /_bench/read-layer/<repository...>/<digest>`, read from R2, gunzipped by the runtime's
 * DecompressionStream and split into tar entries by modern-tar, as src/scanning/layers.ts does,
 * every entry's body read chunk by chunk and dropped. No inventory work: what the scanner's
 * reading can reach. Diagnostics: `?drain=cancel` cancels each body instead (as the scanner
 * skips an entry it does not want); `?drain=none` only gunzips (no tar). Answers the blob's size
 * (`bytes`), the bytes read after it (`uncompressedBytes`: the entries' bodies, without tar
 * headers and padding; with `none`, the whole tar), the tar entries and the milliseconds the
 * runtime saw.
 */
benchRoutes.post("/read-layer/*", async (c) => {
  const rest = decodeURIComponent(new URL(c.req.url).pathname.replace(/^.*?\/_bench\/read-layer\//, ""));
  const slash = rest.lastIndexOf("/");
  const [repository, digest] = [rest.slice(0, slash), rest.slice(slash + 1)];
  const started = Date.now();
  const link = slash > 0 ? await findBlobLink(c.get("db"), repository, digest) : undefined;
  const object = link === undefined ? null : await c.env.BLOBS.get(link.objectKey);
  if (object === null) throw new RegistryError(OciError.BLOB_UNKNOWN, `no blob ${digest} in ${repository}`);
  const drain = c.req.query("drain") ?? "read";
  const body = object.body as ReadableStream<Uint8Array>;
  const tar = body.pipeThrough(new DecompressionStream("gzip"));
  let uncompressedBytes = 0;
  let entries = 0;
  if (drain === "none") {
    for await (const chunk of tar) uncompressedBytes += chunk.length;
  } else {
    for await (const entry of tar.pipeThrough(createTarDecoder({ strict: true }))) {
      entries++;
      if (drain === "cancel") {
        uncompressedBytes += entry.header.size;
        await entry.body.cancel();
        continue;
      }
      for await (const chunk of entry.body) uncompressedBytes += chunk.length;
    }
  }
  return c.json({ bytes: object.size, uncompressedBytes, entries, ms: Date.now() - started });
});
