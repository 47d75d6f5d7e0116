import { describe, expect, it } from "vitest";
import { UpstreamFetches, type JoinResult } from "./upstream-fetches";

function leaseOf(result: JoinResult): string {
  if (result.role !== "leader") throw new Error("expected to lead");
  return result.lease;
}

describe("UpstreamFetches", () => {
  it("lets the first caller lead and the others wait for its outcome", async () => {
    const fetches = new UpstreamFetches();
    const lease = leaseOf(await fetches.join("blob:a"));
    const followers = Array.from({ length: 19 }, () => fetches.join("blob:a"));
    let settled = false;
    void Promise.all(followers).then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    fetches.end("blob:a", lease, { status: "done" });
    expect(await Promise.all(followers)).toEqual(
      Array.from({ length: 19 }, () => ({ role: "follower", outcome: { status: "done" } })),
    );
    // Ended: the next caller leads a new fetch.
    expect((await fetches.join("blob:a")).role).toBe("leader");
  });

  it("hands followers the leader's failure", async () => {
    const fetches = new UpstreamFetches();
    const lease = leaseOf(await fetches.join("manifest:latest"));
    const follower = fetches.join("manifest:latest");
    fetches.end("manifest:latest", lease, { status: "failed", kind: "rate-limited", message: "429" });
    expect(await follower).toEqual({
      role: "follower",
      outcome: { status: "failed", kind: "rate-limited", message: "429" },
    });
  });

  it("drops flights whose leader died (lease run out) instead of keeping every abandoned key", async () => {
    const fetches = new UpstreamFetches(20);
    for (let i = 0; i < 100; i++) leaseOf(await fetches.join(`blob:${i}`)); // never ended
    expect(fetches.size).toBe(100);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const live = leaseOf(await fetches.join("blob:next"));
    expect(fetches.size).toBe(1);
    fetches.end("blob:next", live, { status: "done" });
    expect(fetches.size).toBe(0);
  });

  it("keeps keys apart", async () => {
    const fetches = new UpstreamFetches();
    expect((await fetches.join("blob:a")).role).toBe("leader");
    expect((await fetches.join("blob:b")).role).toBe("leader");
  });

  it("ignores an end or renewal with a stale lease", async () => {
    const fetches = new UpstreamFetches();
    const lease = leaseOf(await fetches.join("k"));
    expect(fetches.renew("k", "not-the-lease")).toBe(false);
    fetches.end("k", "not-the-lease", { status: "done" });
    const follower = fetches.join("k");
    expect(fetches.renew("k", lease)).toBe(true);
    fetches.end("k", lease, { status: "done" });
    expect((await follower).role).toBe("follower");
  });

  it("replaces a leader that stopped renewing once its lease runs out, and only then", async () => {
    const fetches = new UpstreamFetches(150);
    const lease = leaseOf(await fetches.join("k"));
    const started = Date.now();
    // Renewed once at ~100 ms: the follower cannot take over before ~250 ms.
    setTimeout(() => fetches.renew("k", lease), 100);
    const next = await fetches.join("k");
    expect(next.role).toBe("leader");
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    // The old leader's late end does not end the new fetch.
    fetches.end("k", lease, { status: "done" });
    const follower = fetches.join("k");
    fetches.end("k", leaseOf(next), { status: "failed", kind: "unavailable", message: "x" });
    expect((await follower).role).toBe("follower");
  });
});
