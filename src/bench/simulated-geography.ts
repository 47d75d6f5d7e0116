/**
 * Simulated geography, for benchmarks and tests only (REGISTRY_SIMULATED_GEOGRAPHY=1; a
 * request naming a location is refused with 400 otherwise, and `npm run deploy` refuses the
 * variable). A request names where its client is (`X-Simulated-Location: singapore`); the
 * Worker then sees that location in `request.cf`, and every storage binding it touches answers
 * after the round-trip latency of its distance from there:
 *
 *   latency = 5 ms + 1 ms per 100 km of great-circle distance (light in fibre, there and back,
 *   plus a little): 5 ms within a metro area, about 70 ms across the Atlantic, 160 ms from
 *   Virginia to Singapore.
 *
 * Where each binding is: the D1 primary and the home bucket (BLOBS) in the home region
 * (REGISTRY_REGION); each replica bucket in its region (REPLICA_REGIONS); the D1 read replica
 * in the D1 region nearest the location. Locally there are no D1 replicas, so a session opened
 * with "first-unconstrained" reads a second local database, SIMULATED_D1_REPLICA, which lags
 * until the bench copies the primary into it (POST /_bench/replica-sync): a row it lacks is a
 * row the replica has not received yet. Without that binding, the primary answers.
 *
 * `X-Simulated-Off: r2-replicas, d1-replicas, caches` turns features off for one request
 * (no replica buckets; no D1 replica; READ_CACHE_SECONDS and EDGE_CACHE_MAX_BYTES 0), so one run
 * compares with and without them. The response carries `X-Simulated-Trips`: JSON with the
 * round trips to the home region (`home`), the simulated storage latency (`ms`) and each step
 * (`steps`: binding@region=ms), counted until the response's headers were ready.
 */
import { isR2Bucket, settingsOf } from "../config/load";
import type { Settings } from "../config/settings";
import { distanceKm } from "../geo/nearest";
import { D1_REGION_PLACES, REGION_PLACES, type Place } from "../geo/regions";
import { OciError, RegistryError, renderError } from "../errors";

export const LOCATION_HEADER = "X-Simulated-Location";
export const OFF_HEADER = "X-Simulated-Off";
export const TRIPS_HEADER = "X-Simulated-Trips";

/** The places a simulated request may come from. */
export const SIMULATED_LOCATIONS: Readonly<Record<string, Place & { country: string }>> = {
  virginia: { latitude: 38.9, longitude: -77.4, continent: "NA", country: "US" },
  oregon: { latitude: 45.6, longitude: -122.7, continent: "NA", country: "US" },
  frankfurt: { latitude: 50.1, longitude: 8.7, continent: "EU", country: "DE" },
  dublin: { latitude: 53.3, longitude: -6.3, continent: "EU", country: "IE" },
  singapore: { latitude: 1.35, longitude: 103.8, continent: "AS", country: "SG" },
  tokyo: { latitude: 35.7, longitude: 139.7, continent: "AS", country: "JP" },
  sydney: { latitude: -33.9, longitude: 151.2, continent: "OC", country: "AU" },
  "sao-paulo": { latitude: -23.5, longitude: -46.6, continent: "SA", country: "BR" },
};

export const FEATURES = ["r2-replicas", "d1-replicas", "caches"] as const;
type Feature = (typeof FEATURES)[number];

/** Round-trip latency between two places (the rule in the header comment). */
export function latencyMs(from: Place, to: Place): number {
  return Math.round(5 + distanceKm(from, to) / 100);
}

/**
 * The latency table of this registry's bindings from each simulated location (ms): the D1
 * primary and home bucket, each replica bucket, and the nearest D1 replica.
 */
export function latencyTable(settings: Settings): Record<string, Record<string, number>> {
  const home = REGION_PLACES[settings.auth.region];
  return Object.fromEntries(
    Object.entries(SIMULATED_LOCATIONS).map(([name, location]) => {
      const row: Record<string, number> = {};
      if (home !== undefined) row[`home ${settings.auth.region} (D1 primary, BLOBS)`] = latencyMs(location, home);
      for (const { region } of settings.replicaRegions) {
        const place = REGION_PLACES[region];
        if (place !== undefined) row[`replica bucket ${region}`] = latencyMs(location, place);
      }
      const [d1Region, d1Place] = nearestD1Region(location);
      row[`D1 replica (${d1Region})`] = latencyMs(location, d1Place);
      return [name, row];
    }),
  );
}

function nearestD1Region(client: Place): [string, Place] {
  return Object.entries(D1_REGION_PLACES).reduce((best, entry) =>
    distanceKm(client, entry[1]) < distanceKm(client, best[1]) ? entry : best,
  );
}

interface Step {
  binding: string;
  region: string;
  ms: number;
  home: boolean;
}

/** One request's storage steps, and the delay each adds. */
class Ledger {
  readonly steps: Step[] = [];
  constructor(private readonly client: Place) {}

  async trip(binding: string, region: string, place: Place, home: boolean): Promise<void> {
    const ms = latencyMs(this.client, place);
    this.steps.push({ binding, region, ms, home });
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  header(): string {
    return JSON.stringify({
      home: this.steps.filter((step) => step.home).length,
      ms: this.steps.reduce((sum, step) => sum + step.ms, 0),
      steps: this.steps.map((step) => `${step.binding}@${step.region}=${step.ms}`),
    });
  }
}

/**
 * Serves `request` with `serve`, simulating geography when the request asks for it: the
 * location in `request.cf`, the delayed bindings, the features turned off, the trips header.
 */
export async function withSimulatedGeography(
  request: Request,
  env: Env,
  serve: (request: Request, env: Env) => Promise<Response>,
): Promise<Response> {
  const name = request.headers.get(LOCATION_HEADER);
  if (name === null) return serve(request, env);
  const refuse = (message: string) =>
    renderError(new RegistryError(OciError.SIMULATION_REFUSED, message), request.method);
  let settings: Settings;
  try {
    settings = settingsOf(env);
  } catch {
    return serve(request, env); // the app answers the misconfiguration
  }
  if (!settings.simulatedGeography)
    return refuse(`${LOCATION_HEADER} needs REGISTRY_SIMULATED_GEOGRAPHY=1 (benchmarks and tests only)`);
  const location = SIMULATED_LOCATIONS[name];
  if (location === undefined)
    return refuse(`unknown simulated location "${name}"; one of ${Object.keys(SIMULATED_LOCATIONS).join(", ")}`);
  const off = new Set(
    (request.headers.get(OFF_HEADER) ?? "")
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== ""),
  );
  const unknown = [...off].filter((feature) => !(FEATURES as readonly string[]).includes(feature));
  if (unknown.length > 0)
    return refuse(`unknown feature "${unknown[0]}" in ${OFF_HEADER}; one of ${FEATURES.join(", ")}`);
  const home = settings.auth.region;
  const homePlace = REGION_PLACES[home];
  if (homePlace === undefined) return refuse(`REGISTRY_REGION ${home} has no known place`);

  const ledger = new Ledger(location);
  const simulated: Record<string, unknown> = { ...env };
  if (off.has("caches")) Object.assign(simulated, { READ_CACHE_SECONDS: "0", EDGE_CACHE_MAX_BYTES: "0" });
  if (off.has("r2-replicas")) simulated.REPLICA_REGIONS = "";
  simulated.BLOBS = delayedBucket(env.BLOBS, "BLOBS", home, homePlace, true, ledger);
  for (const { region, binding } of settings.replicaRegions) {
    const bucket: unknown = Reflect.get(env, binding);
    const place = REGION_PLACES[region];
    if (isR2Bucket(bucket) && place !== undefined)
      simulated[binding] = delayedBucket(bucket, binding, region, place, false, ledger);
  }
  const replica = off.has("d1-replicas" satisfies Feature) ? null : simulatedReplica(env);
  simulated.DB = delayedDatabase(env.DB, replica, { region: home, place: homePlace }, location, ledger);
  const cf = {
    latitude: String(location.latitude),
    longitude: String(location.longitude),
    continent: location.continent,
    country: location.country,
  };
  const response = await serve(new Request(request, { cf }), simulated as unknown as Env);
  const headers = new Headers(response.headers);
  headers.set(TRIPS_HEADER, ledger.header());
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** The local database standing in for D1's read replica (bound only by tests and the bench). */
export function simulatedReplica(env: Env): D1Database | null {
  const binding: unknown = Reflect.get(env, "SIMULATED_D1_REPLICA");
  const isDatabase =
    typeof binding === "object" &&
    binding !== null &&
    ["prepare", "batch", "withSession"].every((method) => typeof Reflect.get(binding, method) === "function");
  return isDatabase ? (binding as D1Database) : null;
}

/** A bucket whose every operation is one round trip from the client's location. */
function delayedBucket(bucket: R2Bucket, binding: string, region: string, place: Place, home: boolean, ledger: Ledger) {
  return new Proxy(bucket, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        await ledger.trip(`r2:${binding}`, region, place, home);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const WRITE_SQL = /^\s*(insert|update|delete|replace|create|drop|alter)\b/i;

/** A statement that makes one round trip to `where` when it runs. */
function delayedStatement(statement: D1PreparedStatement, trip: () => Promise<void>): D1PreparedStatement {
  return new Proxy(statement, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === "bind") return (...values: unknown[]) => delayedStatement(target.bind(...values), trip);
      if (typeof value !== "function" || !["all", "run", "first", "raw"].includes(String(property))) return value;
      return async (...args: unknown[]) => {
        await trip();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** The real statement behind a delayed one, for batch (which needs the runtime's own). */
function unwrapped(statements: D1PreparedStatement[], underlying: WeakMap<D1PreparedStatement, D1PreparedStatement>) {
  return statements.map((statement) => underlying.get(statement) ?? statement);
}

/**
 * D1 with the primary in the home region; sessions opened "first-unconstrained" read the
 * simulated replica in the D1 region nearest the client (writes still go to the primary).
 */
function delayedDatabase(
  primary: D1Database,
  replica: D1Database | null,
  home: { region: string; place: Place },
  client: Place,
  ledger: Ledger,
): D1Database {
  const underlying = new WeakMap<D1PreparedStatement, D1PreparedStatement>();
  const nearest = nearestD1Region(client);
  const toPrimary = () => ledger.trip("d1-primary", home.region, home.place, true);
  const toReplica = () => ledger.trip("d1-replica", nearest[0], nearest[1], false);
  const wrap = (statement: D1PreparedStatement, trip: () => Promise<void>) => {
    const delayed = delayedStatement(statement, trip);
    underlying.set(delayed, statement);
    return delayed;
  };
  const sessionOf = (constraint: D1SessionBookmark | undefined): D1DatabaseSession => {
    const primarySession = primary.withSession(constraint);
    const useReplica = replica !== null && constraint === "first-unconstrained";
    const replicaSession = useReplica ? replica.withSession("first-unconstrained") : null;
    return {
      prepare: (query: string) =>
        replicaSession !== null && !WRITE_SQL.test(query)
          ? wrap(replicaSession.prepare(query), toReplica)
          : wrap(primarySession.prepare(query), toPrimary),
      batch: async <T>(statements: D1PreparedStatement[]) => {
        await toPrimary();
        return primarySession.batch<T>(unwrapped(statements, underlying));
      },
      getBookmark: () => primarySession.getBookmark(),
    };
  };
  return new Proxy(primary, {
    get(target, property, receiver) {
      if (property === "prepare") return (query: string) => wrap(target.prepare(query), toPrimary);
      if (property === "batch")
        return async <T>(statements: D1PreparedStatement[]) => {
          await toPrimary();
          return target.batch<T>(unwrapped(statements, underlying));
        };
      if (property === "withSession") return sessionOf;
      const value: unknown = Reflect.get(target, property, receiver);
      return value;
    },
  });
}
