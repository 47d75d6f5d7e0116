import { describe, expect, it } from "vitest";
import { retryWaitMs } from "./backoff";

describe("retryWaitMs", () => {
  it("doubles from the first wait per failed attempt", () => {
    expect([1, 2, 3, 4].map((attempts) => retryWaitMs(30_000, attempts, 0))).toEqual([
      30_000, 60_000, 120_000, 240_000,
    ]);
  });

  it("stops at an hour", () => {
    expect(retryWaitMs(30_000, 20, 0)).toBe(3_600_000);
  });

  it("adds at most a tenth of jitter", () => {
    expect(retryWaitMs(1000, 1, 0.999)).toBe(1100);
    expect(retryWaitMs(1000, 1, 0.5)).toBe(1050);
  });
});
