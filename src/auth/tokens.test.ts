/**
 * The clock-skew rule for a token's `iat` (src/auth/tokens.ts): up to 60 s ahead is accepted.
 */
import { describe, expect, it } from "vitest";
import { CLOCK_SKEW_SECONDS, issuedInTheFuture } from "./tokens";

describe("issuedInTheFuture", () => {
  const now = 1_800_000_000;
  it("accepts iat in the past, now, and up to the allowed skew ahead", () => {
    expect(issuedInTheFuture(now - 3600, now)).toBe(false);
    expect(issuedInTheFuture(now, now)).toBe(false);
    expect(issuedInTheFuture(now + CLOCK_SKEW_SECONDS, now)).toBe(false);
  });
  it("refuses iat beyond the skew, and a missing iat", () => {
    expect(CLOCK_SKEW_SECONDS).toBe(60);
    expect(issuedInTheFuture(now + CLOCK_SKEW_SECONDS + 1, now)).toBe(true);
    expect(issuedInTheFuture(now + 86_400, now)).toBe(true);
    expect(issuedInTheFuture(undefined, now)).toBe(true);
  });
});
