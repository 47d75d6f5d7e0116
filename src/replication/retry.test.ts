import { describe, expect, it } from "vitest";
import { afterFailure, GIVE_UP_AFTER_MS, RETRY_BASE_MS, RETRY_MAX_MS } from "./retry";

const T0 = 1_800_000_000_000;

describe("afterFailure", () => {
  it("fails at once on a failure the destination will keep giving", () => {
    for (const failure of ["REGISTRY_POLICY_DENIED", "SOURCE_IMAGE_DELETED", "DESTINATION_REJECTED"] as const) {
      expect(afterFailure({ id: 1, createdAt: T0, attempts: 0, failure }, T0 + 1000)).toEqual({
        status: "FAILED",
        attempts: 1,
        failureCode: failure,
      });
    }
  });

  it("retries a destination not configured yet (an endpoint or bucket may be added)", () => {
    expect(afterFailure({ id: 1, createdAt: T0, attempts: 0, failure: "DESTINATION_UNKNOWN" }, T0)).toMatchObject({
      status: "IN_PROGRESS",
      attempts: 1,
    });
  });

  it("retries an unavailable destination with doubling waits, capped, plus at most a quarter of jitter", () => {
    const waits: number[] = [];
    let now = T0;
    for (let attempts = 0; attempts < 8; attempts++) {
      const next = afterFailure({ id: 7, createdAt: T0, attempts, failure: "DESTINATION_UNAVAILABLE" }, now);
      if (next.status !== "IN_PROGRESS") throw new Error(`gave up after ${attempts} attempts`);
      expect(next.attempts).toBe(attempts + 1);
      waits.push(next.nextAttemptAt - now);
      now = next.nextAttemptAt;
    }
    const base = [1, 2, 4, 8, 16, 30, 30, 30].map((m) => Math.min(RETRY_MAX_MS, m * RETRY_BASE_MS));
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(base[i] ?? 0);
      expect(wait).toBeLessThan((base[i] ?? 0) * 1.25);
    });
  });

  it("starts from a shorter first wait when configured, and caps at thirty times it", () => {
    const first = afterFailure({ id: 3, createdAt: T0, attempts: 0, failure: "DESTINATION_UNAVAILABLE" }, T0, 2000);
    expect(first.status === "IN_PROGRESS" && first.nextAttemptAt - T0).toBeGreaterThanOrEqual(2000);
    expect(first.status === "IN_PROGRESS" && first.nextAttemptAt - T0).toBeLessThan(2500);
    const late = afterFailure({ id: 3, createdAt: T0, attempts: 15, failure: "DESTINATION_UNAVAILABLE" }, T0, 2000);
    expect(late.status === "IN_PROGRESS" && late.nextAttemptAt - T0).toBeLessThan(60_000 * 1.25);
    expect(late.status === "IN_PROGRESS" && late.nextAttemptAt - T0).toBeGreaterThanOrEqual(60_000);
  });

  it("spreads items that failed together, and decides the same way every time", () => {
    const next = (id: number) =>
      afterFailure({ id, createdAt: T0, attempts: 2, failure: "DESTINATION_UNAVAILABLE" }, T0 + 60_000);
    const times = new Set(Array.from({ length: 50 }, (_, id) => (next(id) as { nextAttemptAt: number }).nextAttemptAt));
    expect(times.size).toBeGreaterThan(40);
    expect(next(3)).toEqual(next(3));
  });

  it("gives up with the last failure's code once the item would be older than the limit", () => {
    const late = T0 + GIVE_UP_AFTER_MS - 60_000;
    expect(afterFailure({ id: 1, createdAt: T0, attempts: 12, failure: "DESTINATION_UNAVAILABLE" }, late)).toEqual({
      status: "FAILED",
      attempts: 13,
      failureCode: "DESTINATION_UNAVAILABLE",
    });
    expect(afterFailure({ id: 1, createdAt: T0, attempts: 0, failure: "DESTINATION_UNAVAILABLE" }, T0).status).toBe(
      "IN_PROGRESS",
    );
  });
});
