/**
 * Leading or following an upstream fetch through the repository's object
 * (src/repository/upstream-fetches.ts). The leader gets a `Lead` to renew while it streams and
 * to end exactly once; a follower gets how the leader's fetch ended.
 */
import type { AppContext } from "../app-env";
import { repositoryObject } from "../repository/stub";
import { FETCH_LEASE_MS, type FetchOutcome } from "../repository/upstream-fetches";
import { UpstreamFailure } from "./upstream-client";

export interface Lead {
  /** Renews the lease if a third of it has passed (cheap to call between chunks). */
  renewIfDue(): void;
  end(outcome: FetchOutcome): Promise<void>;
}

export type Flight = { role: "leader"; lead: Lead } | { role: "follower"; outcome: FetchOutcome };

export async function joinFlight(c: AppContext, repository: string, key: string): Promise<Flight> {
  const object = repositoryObject(c.env, repository);
  const joined = await object.joinUpstreamFetch(key);
  if (joined.role === "follower") return joined;
  let renewedAt = Date.now();
  let ended = false;
  const lead: Lead = {
    renewIfDue() {
      if (ended || Date.now() - renewedAt < FETCH_LEASE_MS / 3) return;
      renewedAt = Date.now();
      c.executionCtx.waitUntil(object.renewUpstreamFetch(key, joined.lease).catch(() => false));
    },
    async end(outcome) {
      if (ended) return;
      ended = true;
      await object.endUpstreamFetch(key, joined.lease, outcome);
    },
  };
  return { role: "leader", lead };
}

/** Runs a leader's whole fetch, ending the flight as done or with the failure it threw. */
export async function leading<T>(lead: Lead, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await lead.end(failedOutcome(error));
    throw error;
  }
  await lead.end({ status: "done" });
  return result;
}

export function failedOutcome(error: unknown): FetchOutcome {
  if (error instanceof UpstreamFailure) return { status: "failed", kind: error.kind, message: error.message };
  return { status: "failed", kind: "unavailable", message: error instanceof Error ? error.message : String(error) };
}

/** What a follower reports when the fetch it waited for failed. */
export function outcomeFailure(outcome: Extract<FetchOutcome, { status: "failed" }>): UpstreamFailure {
  return new UpstreamFailure(outcome.kind, 0, outcome.message);
}
