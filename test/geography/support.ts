/**
 * Helpers for the simulated-geography tests (the workers-geography project: replica buckets in
 * eu-west-1 and ap-southeast-1, a simulated D1 read replica, READ_CACHE_SECONDS=2).
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { settingsOf } from "../../src/config/load";
import { runReplication } from "../../src/replication/run";
import { ecrCall } from "../support/ecr";
import { ACCOUNT_ID, adminAuthorization, bearerAuthorization, call, fetchToken } from "../support/registry";

export interface Trips {
  home: number;
  ms: number;
  steps: string[];
}

/** The storage steps a response reports (X-Simulated-Trips). */
export function tripsOf(response: Response): Trips {
  const header = response.headers.get("X-Simulated-Trips");
  expect(header, "the response reports its simulated trips").not.toBeNull();
  return JSON.parse(header!) as Trips;
}

/** The bindings a response touched, in order (`d1-replica`, `r2:BLOBS`, ...). */
export function bindingsOf(response: Response): string[] {
  return tripsOf(response).steps.map((step) => step.split("@")[0]!);
}

export type Feature = "r2-replicas" | "d1-replicas" | "caches";

/**
 * A request from a simulated location, with features turned off for it. Pulls carry a bearer
 * token for the repository (fetched first, not simulated), as every client's pulls do: the
 * token carries the grant, so a pull reads no credentials from D1.
 */
export async function callFrom(
  location: string,
  method: string,
  path: string,
  options: { off?: Feature[]; headers?: Record<string, string>; authorization?: string } = {},
): Promise<Response> {
  const name = /^\/v2\/(.+)\/(?:blobs|manifests)\/[^/]+$/.exec(path)?.[1];
  const authorization =
    options.authorization ??
    (name === undefined
      ? adminAuthorization()
      : bearerAuthorization(await fetchToken([`repository:${name}:pull`], adminAuthorization())));
  const headers: Record<string, string> = {
    "X-Simulated-Location": location,
    Authorization: authorization,
    ...options.headers,
  };
  if (options.off !== undefined && options.off.length > 0) headers["X-Simulated-Off"] = options.off.join(",");
  return call(method, path, { headers });
}

/** Replication to both replica regions, for every repository. */
export async function replicateEverywhere(): Promise<void> {
  const destinations = ["eu-west-1", "ap-southeast-1"].map((region) => ({ registryId: ACCOUNT_ID, region }));
  const put = await ecrCall("PutReplicationConfiguration", { replicationConfiguration: { rules: [{ destinations }] } });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
}

/** Runs the replication job now (the cron's work). */
export async function drainReplication(): Promise<void> {
  const report = await runReplication(env, settingsOf(env));
  expect(report.failed).toBe(0);
}

/** The simulated D1 read replica catches up with the primary. */
export async function syncReadReplica(): Promise<void> {
  const response = await call("POST", "/_bench/replica-sync");
  expect(response.status, await response.clone().text()).toBe(200);
}
