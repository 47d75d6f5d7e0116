/**
 * Replication's admin side:
 *   GET    /admin/replication                          the backlog: pending items, the oldest
 *                                                      pending one, and per destination what
 *                                                      is pending, complete and failed (by
 *                                                      failure code), with the last run
 *   PUT    /admin/replication/destinations/<registryId> {"endpoint", "username"?, "password"?,
 *                                                      "chunkBytes"?} where another registry
 *                                                      (account) is reached, and the largest
 *                                                      request body it takes (blobs above it
 *                                                      go in chunks); the credentials are
 *                                                      sealed and never returned
 *   GET    /admin/replication/destinations            each destination's endpoint and user name
 *   DELETE /admin/replication/destinations/<registryId>
 * Reading needs `ecr:DescribeRegistry`, changing `ecr:PutReplicationConfiguration`, on `*`.
 */
import { Hono } from "hono";
import type { AppContext, AppEnv } from "../app-env";
import { authConfig } from "../auth/config";
import {
  deleteRegistryDestination,
  listRegistryDestinations,
  putRegistryDestination,
} from "../replication/destinations";
import { MIN_CHUNK_BYTES } from "../replication/registry-client";
import { lastReplicationRun } from "../replication/run";
import { replicationBacklog } from "../storage/replication-records";
import { requireIdentityAction } from "./authorize";
import { adminError, readJsonInput, requireOutboundUrl } from "./input";
import { presentRun } from "./present";

export const replicationRoutes = new Hono<AppEnv>();

const CREDENTIAL = { min: 1, max: 8192 };

async function requireRegistryId(c: AppContext): Promise<string> {
  const registryId = c.req.param("registryId") ?? "";
  if (!/^\d{12}$/.test(registryId)) throw adminError.invalid(`registry id "${registryId}" is not 12 digits`);
  if (registryId === (await authConfig(c.var.settings.auth)).accountId)
    throw adminError.invalid(`${registryId} is this registry: its replicas are regions (REPLICA_REGIONS)`);
  return registryId;
}

/** An https origin, or http for a loopback address (local runs and tests). */
function requireEndpoint(text: string): string {
  const url = requireOutboundUrl(text);
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "")
    throw adminError.invalid("endpoint is an origin: scheme, host and port only");
  return url.origin;
}

replicationRoutes.get("/replication", async (c) => {
  await requireIdentityAction(c, "ecr:DescribeRegistry", null);
  const db = c.get("db");
  const [backlog, lastRun] = await Promise.all([replicationBacklog(db), lastReplicationRun(db)]);
  return c.json({
    pending: backlog.pending,
    oldestPendingAt: backlog.oldestPendingAt === null ? null : new Date(backlog.oldestPendingAt).toISOString(),
    destinations: backlog.destinations,
    lastRun: lastRun === null ? null : presentRun(lastRun),
  });
});

replicationRoutes.put("/replication/destinations/:registryId", async (c) => {
  const registryId = await requireRegistryId(c);
  await requireIdentityAction(c, "ecr:PutReplicationConfiguration", null);
  const input = await readJsonInput(c);
  const endpoint = requireEndpoint(input.string("endpoint", { min: 1, max: 2048 }));
  const username = input.optionalString("username", CREDENTIAL);
  const password = input.optionalString("password", CREDENTIAL);
  const chunkBytes = input.optionalInteger("chunkBytes", MIN_CHUNK_BYTES, 5 * 1024 ** 3) ?? null;
  if ((username === undefined) !== (password === undefined))
    throw adminError.invalid("username and password are given together or not at all");
  const { secretsKey } = await authConfig(c.var.settings.auth);
  if (secretsKey === null)
    throw adminError.invalid("REGISTRY_SECRETS_KEY is not configured: credentials cannot be stored");
  const credentials = username === undefined || password === undefined ? null : { username, password };
  await putRegistryDestination(c.get("db"), secretsKey, { registryId, endpoint, credentials, chunkBytes }, Date.now());
  return c.json({ registryId, endpoint, username: username ?? null, chunkBytes });
});

replicationRoutes.get("/replication/destinations", async (c) => {
  await requireIdentityAction(c, "ecr:DescribeRegistry", null);
  const { secretsKey } = await authConfig(c.var.settings.auth);
  const destinations = await listRegistryDestinations(c.get("db"), secretsKey);
  return c.json({
    destinations: destinations.map(({ registryId, endpoint, credentials, chunkBytes }) => ({
      registryId,
      endpoint,
      username: credentials?.username ?? null,
      chunkBytes,
    })),
  });
});

replicationRoutes.delete("/replication/destinations/:registryId", async (c) => {
  const registryId = await requireRegistryId(c);
  await requireIdentityAction(c, "ecr:PutReplicationConfiguration", null);
  if (!(await deleteRegistryDestination(c.get("db"), registryId)))
    throw adminError.notFound(`no destination is configured for registry ${registryId}`);
  return c.body(null, 204);
});
