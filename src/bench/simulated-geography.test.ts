import { describe, expect, it } from "vitest";
import { parseSettings } from "../config/settings";
import { latencyMs, latencyTable, SIMULATED_LOCATIONS } from "./simulated-geography";

describe("simulated latency", () => {
  it("is 5 ms plus 1 ms per 100 km", () => {
    const { virginia, singapore, frankfurt, dublin } = SIMULATED_LOCATIONS;
    expect(latencyMs(virginia!, virginia!)).toBe(5);
    expect(latencyMs(virginia!, singapore!)).toBe(160);
    expect(latencyMs(frankfurt!, virginia!)).toBe(71);
    expect(latencyMs(dublin!, frankfurt!)).toBe(latencyMs(frankfurt!, dublin!));
  });

  it("tabulates every binding from every location: home, each replica bucket, the nearest D1 replica", () => {
    const table = latencyTable(parseSettings({ REPLICA_REGIONS: "ap-southeast-1=BLOBS_AP" }));
    expect(Object.keys(table)).toEqual(Object.keys(SIMULATED_LOCATIONS));
    expect(table.singapore).toEqual({
      "home us-east-1 (D1 primary, BLOBS)": 160,
      "replica bucket ap-southeast-1": 5,
      "D1 replica (apac)": 5,
    });
    expect(table.virginia!["D1 replica (enam)"]).toBe(5);
  });
});
