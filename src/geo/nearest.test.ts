import { describe, expect, it } from "vitest";
import { distanceKm, locationOf, nearestRegion } from "./nearest";

const HOME_AND_REPLICAS = ["us-east-1", "eu-west-1", "ap-southeast-1"];

describe("locationOf", () => {
  it("reads Cloudflare's string coordinates and continent", () => {
    expect(locationOf({ latitude: "1.29", longitude: "103.85", continent: "AS", country: "SG" })).toEqual({
      latitude: 1.29,
      longitude: 103.85,
      continent: "AS",
    });
  });
  it("leaves out what is missing, malformed or out of range", () => {
    expect(locationOf(undefined)).toEqual({ latitude: null, longitude: null, continent: null });
    expect(locationOf({ latitude: "north", longitude: "200", continent: "XX" })).toEqual({
      latitude: null,
      longitude: null,
      continent: null,
    });
    expect(locationOf({ latitude: "", longitude: 12 })).toEqual({ latitude: null, longitude: 12, continent: null });
  });
});

describe("distanceKm", () => {
  it("measures great circles", () => {
    // Virginia to Singapore is about 15,500 km; London to Dublin about 460 km.
    expect(distanceKm({ latitude: 38.9, longitude: -77.4 }, { latitude: 1.35, longitude: 103.8 })).toBeGreaterThan(
      15_000,
    );
    expect(distanceKm({ latitude: 51.5, longitude: -0.1 }, { latitude: 53.3, longitude: -6.3 })).toBeCloseTo(464, -1);
    expect(distanceKm({ latitude: 10, longitude: 10 }, { latitude: 10, longitude: 10 })).toBe(0);
  });
});

describe("nearestRegion", () => {
  it("picks the closest region by coordinates", () => {
    const at = (latitude: number, longitude: number) => ({ latitude, longitude, continent: null });
    expect(nearestRegion(at(1.29, 103.85), HOME_AND_REPLICAS)).toBe("ap-southeast-1"); // Singapore
    expect(nearestRegion(at(35.7, 139.7), HOME_AND_REPLICAS)).toBe("ap-southeast-1"); // Tokyo
    expect(nearestRegion(at(50.1, 8.7), HOME_AND_REPLICAS)).toBe("eu-west-1"); // Frankfurt
    expect(nearestRegion(at(40.7, -74.0), HOME_AND_REPLICAS)).toBe("us-east-1"); // New York
    expect(nearestRegion(at(-23.5, -46.6), HOME_AND_REPLICAS)).toBe("us-east-1"); // São Paulo
  });
  it("falls back to the continent, then to the first region", () => {
    const on = (continent: "EU" | "AS" | "SA") => ({ latitude: null, longitude: null, continent });
    expect(nearestRegion(on("EU"), HOME_AND_REPLICAS)).toBe("eu-west-1");
    expect(nearestRegion(on("AS"), HOME_AND_REPLICAS)).toBe("ap-southeast-1");
    expect(nearestRegion(on("SA"), HOME_AND_REPLICAS)).toBe("us-east-1");
    expect(nearestRegion({ latitude: null, longitude: null, continent: null }, HOME_AND_REPLICAS)).toBe("us-east-1");
  });
  it("never prefers a region it cannot place, and answers null for no regions", () => {
    expect(nearestRegion({ latitude: 1.3, longitude: 103.8, continent: "AS" }, ["us-east-1", "mars-1"])).toBe(
      "us-east-1",
    );
    expect(nearestRegion({ latitude: 1.3, longitude: 103.8, continent: "AS" }, [])).toBeNull();
  });
});
