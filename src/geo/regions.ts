/**
 * Where things are: the ECR (AWS) region names this registry uses for its home and its
 * regional replica buckets, and the D1 regions that hold read replicas, each with a point on
 * the globe (the metro area of the region) and its continent as Cloudflare's `request.cf`
 * spells continents. Leaf module: data only.
 */

export type Continent = "AF" | "AN" | "AS" | "EU" | "NA" | "OC" | "SA";

export interface Place {
  latitude: number;
  longitude: number;
  continent: Continent;
}

/** ECR regions by name. A replica region missing here is chosen by nothing but an exact match. */
export const REGION_PLACES: Readonly<Record<string, Place>> = {
  "us-east-1": { latitude: 38.9, longitude: -77.4, continent: "NA" },
  "us-east-2": { latitude: 40.0, longitude: -83.0, continent: "NA" },
  "us-west-1": { latitude: 37.4, longitude: -121.9, continent: "NA" },
  "us-west-2": { latitude: 45.6, longitude: -122.7, continent: "NA" },
  "ca-central-1": { latitude: 45.5, longitude: -73.6, continent: "NA" },
  "ca-west-1": { latitude: 51.0, longitude: -114.1, continent: "NA" },
  "mx-central-1": { latitude: 20.6, longitude: -100.4, continent: "NA" },
  "sa-east-1": { latitude: -23.5, longitude: -46.6, continent: "SA" },
  "eu-west-1": { latitude: 53.3, longitude: -6.3, continent: "EU" },
  "eu-west-2": { latitude: 51.5, longitude: -0.1, continent: "EU" },
  "eu-west-3": { latitude: 48.9, longitude: 2.4, continent: "EU" },
  "eu-central-1": { latitude: 50.1, longitude: 8.7, continent: "EU" },
  "eu-central-2": { latitude: 47.4, longitude: 8.5, continent: "EU" },
  "eu-north-1": { latitude: 59.3, longitude: 18.1, continent: "EU" },
  "eu-south-1": { latitude: 45.5, longitude: 9.2, continent: "EU" },
  "eu-south-2": { latitude: 41.7, longitude: -0.9, continent: "EU" },
  "il-central-1": { latitude: 32.1, longitude: 34.8, continent: "AS" },
  "me-south-1": { latitude: 26.1, longitude: 50.6, continent: "AS" },
  "me-central-1": { latitude: 24.5, longitude: 54.4, continent: "AS" },
  "af-south-1": { latitude: -33.9, longitude: 18.4, continent: "AF" },
  "ap-south-1": { latitude: 19.1, longitude: 72.9, continent: "AS" },
  "ap-south-2": { latitude: 17.4, longitude: 78.5, continent: "AS" },
  "ap-east-1": { latitude: 22.3, longitude: 114.2, continent: "AS" },
  "ap-southeast-1": { latitude: 1.35, longitude: 103.8, continent: "AS" },
  "ap-southeast-2": { latitude: -33.9, longitude: 151.2, continent: "OC" },
  "ap-southeast-3": { latitude: -6.2, longitude: 106.8, continent: "AS" },
  "ap-southeast-4": { latitude: -37.8, longitude: 145.0, continent: "OC" },
  "ap-southeast-5": { latitude: 3.1, longitude: 101.7, continent: "AS" },
  "ap-northeast-1": { latitude: 35.7, longitude: 139.7, continent: "AS" },
  "ap-northeast-2": { latitude: 37.6, longitude: 127.0, continent: "AS" },
  "ap-northeast-3": { latitude: 34.7, longitude: 135.5, continent: "AS" },
};

/**
 * D1's regions, where Cloudflare keeps one read replica each once read replication is on
 * (the primary is in one of them). Used only to say how far the nearest D1 replica is.
 */
export const D1_REGION_PLACES: Readonly<Record<string, Place>> = {
  wnam: { latitude: 37.4, longitude: -121.9, continent: "NA" },
  enam: { latitude: 38.9, longitude: -77.4, continent: "NA" },
  weur: { latitude: 51.5, longitude: -0.1, continent: "EU" },
  eeur: { latitude: 52.2, longitude: 21.0, continent: "EU" },
  apac: { latitude: 1.35, longitude: 103.8, continent: "AS" },
  oc: { latitude: -33.9, longitude: 151.2, continent: "OC" },
};
