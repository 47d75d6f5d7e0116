/**
 * Bench-only routes (REGISTRY_BENCH_MODE=1), used by bench/ to measure the runtime's own
 * ceilings next to the registry: a raw R2 put/get of the same bytes, a constant response
 * (the local server's request ceiling) with and without one trivial D1 query, and the
 * operation counters. 404 otherwise.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { OciError, RegistryError } from "../errors";
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
