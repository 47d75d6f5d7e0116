/**
 * Which of a set of places is nearest a request: by great-circle distance from the
 * coordinates Cloudflare puts in `request.cf` (the client's approximate location), or, when a
 * request carries no coordinates, by continent alone. Pure: the caller gives the candidates
 * (the home region first, then the replica regions) and gets one back.
 */
import { REGION_PLACES, type Continent, type Place } from "./regions";

/** What of `request.cf` locates the client; every field may be missing (local runs, tests). */
export interface RequestLocation {
  latitude: number | null;
  longitude: number | null;
  continent: Continent | null;
}

const CONTINENTS = new Set<string>(["AF", "AN", "AS", "EU", "NA", "OC", "SA"]);

/** The location in a request's `cf` object (strings, as Cloudflare sends them), checked. */
export function locationOf(cf: unknown): RequestLocation {
  const field = (name: string): unknown => (typeof cf === "object" && cf !== null ? Reflect.get(cf, name) : undefined);
  const coordinate = (name: string, limit: number): number | null => {
    const value = field(name);
    const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    return typeof number === "number" && Number.isFinite(number) && Math.abs(number) <= limit ? number : null;
  };
  const continent = field("continent");
  return {
    latitude: coordinate("latitude", 90),
    longitude: coordinate("longitude", 180),
    continent: typeof continent === "string" && CONTINENTS.has(continent) ? (continent as Continent) : null,
  };
}

const EARTH_RADIUS_KM = 6371;

/** Great-circle distance between two points, in km (haversine). */
export function distanceKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }) {
  const radians = (degrees: number) => (degrees * Math.PI) / 180;
  const dLat = radians(b.latitude - a.latitude);
  const dLon = radians(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * The region of `regions` (ECR region names; the first is the fallback, normally home) nearest
 * the location: the closest by distance when the request has coordinates; else the first of
 * them on the request's continent; else the first. A region without a known place is never
 * chosen over the fallback.
 */
export function nearestRegion(location: RequestLocation, regions: readonly string[]): string | null {
  const [fallback = null] = regions;
  const placed = regions.flatMap((region) => {
    const place: Place | undefined = REGION_PLACES[region];
    return place === undefined ? [] : [{ region, place }];
  });
  const { latitude, longitude, continent } = location;
  if (latitude !== null && longitude !== null) {
    let best: { region: string; km: number } | null = null;
    for (const { region, place } of placed) {
      const km = distanceKm({ latitude, longitude }, place);
      if (best === null || km < best.km) best = { region, km };
    }
    return best?.region ?? fallback;
  }
  if (continent !== null) return placed.find(({ place }) => place.continent === continent)?.region ?? fallback;
  return fallback;
}
