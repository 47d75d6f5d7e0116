/**
 * The pure part of failed-login throttling (src/auth/login-throttle.ts): what an attempt is
 * counted against, and the counting window (the settings: src/config/settings.test.ts).
 */
import { describe, expect, it } from "vitest";
import { afterFailure, clientAddress, throttledFor, throttleTargets } from "./login-throttle";
import { DEFAULT_THROTTLE_SETTINGS } from "../config/settings";

describe("clientAddress", () => {
  it("keeps IPv4 addresses and counts IPv6 ones by their /64", () => {
    expect(clientAddress("203.0.113.7")).toBe("203.0.113.7");
    expect(clientAddress("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(clientAddress("2001:0db8:0001:0002:ffff:0:0:1")).toBe("2001:db8:1:2::/64");
    expect(clientAddress("2001:DB8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(clientAddress("::1")).toBe("0:0:0:0::/64");
    expect(clientAddress("::ffff:192.0.2.1")).toBe("0:0:0:0::/64");
  });
  it("ignores what is not an address", () => {
    expect(clientAddress(null)).toBeNull();
    expect(clientAddress("")).toBeNull();
    expect(clientAddress("localhost")).toBeNull();
    expect(clientAddress("1:2:3")).toBeNull();
    expect(clientAddress("1::2::3")).toBeNull();
    expect(clientAddress("12345::1")).toBeNull();
  });
});

describe("throttleTargets", () => {
  const settings = DEFAULT_THROTTLE_SETTINGS;
  it("counts an attempt against its key id and its address", () => {
    expect(throttleTargets(settings, "AKIAEXAMPLE", "192.0.2.1")).toEqual([
      { name: "key:AKIAEXAMPLE", limit: 10 },
      { name: "ip:192.0.2.1", limit: 30 },
    ]);
  });
  it("never counts user AWS (a signed login token) against a key, nor an unknown address", () => {
    expect(throttleTargets(settings, "AWS", "192.0.2.1")).toEqual([{ name: "ip:192.0.2.1", limit: 30 }]);
    expect(throttleTargets(settings, "AKIAEXAMPLE", null)).toEqual([{ name: "key:AKIAEXAMPLE", limit: 10 }]);
    expect(throttleTargets(settings, null, null)).toEqual([]);
  });
  it("leaves out a throttle set to 0, and cuts very long key ids", () => {
    expect(throttleTargets({ ...settings, keyFailures: 0 }, "AKIAEXAMPLE", "192.0.2.1")).toEqual([
      { name: "ip:192.0.2.1", limit: 30 },
    ]);
    expect(throttleTargets({ ...settings, ipFailures: 0 }, "AKIAEXAMPLE", "192.0.2.1")).toEqual([
      { name: "key:AKIAEXAMPLE", limit: 10 },
    ]);
    expect(throttleTargets(settings, "A".repeat(10_000), null)[0]?.name.length).toBe("key:".length + 128);
  });
});

describe("the failure window", () => {
  it("starts at the first failure and throttles from the limit until it ends", () => {
    let window = afterFailure(undefined, 60_000, 1000);
    expect(window).toEqual({ endsAt: 61_000, failures: 1 });
    expect(throttledFor(window, 3, 1000)).toBe(0);
    window = afterFailure(afterFailure(window, 60_000, 2000), 60_000, 3000);
    expect(window).toEqual({ endsAt: 61_000, failures: 3 });
    expect(throttledFor(window, 3, 3000)).toBe(58_000);
    expect(throttledFor(window, 4, 3000)).toBe(0);
    expect(throttledFor(window, 3, 61_000)).toBe(0);
  });
  it("is not extended by failures in it, and a failure after it starts a new one", () => {
    const full = { endsAt: 61_000, failures: 10 };
    expect(afterFailure(full, 60_000, 60_999)).toEqual({ endsAt: 61_000, failures: 11 });
    expect(afterFailure(full, 60_000, 61_000)).toEqual({ endsAt: 121_000, failures: 1 });
    expect(throttledFor(undefined, 1, 0)).toBe(0);
  });
});
