import { describe, expect, it } from "vitest";
import {
  bucketNames,
  locationHintOf,
  replicaBucketsOf,
  databaseDecision,
  deployedUrl,
  PLACEHOLDER_DATABASE_ID,
  queuesOf,
  resourcesOf,
  secretGroups,
  withDatabaseId,
} from "./deploy-plan.mjs";

const CONFIG = {
  name: "edge-registry",
  d1_databases: [{ binding: "DB", database_name: "edge-registry", database_id: PLACEHOLDER_DATABASE_ID }],
  r2_buckets: [{ binding: "BLOBS", bucket_name: "edge-registry-blobs" }],
};
const ID = "2b0c1f3e-7d8a-4c55-9e61-0a1b2c3d4e5f";

describe("deploy decisions", () => {
  it("reads the resources wrangler.toml declares", () => {
    expect(resourcesOf(CONFIG)).toEqual({
      worker: "edge-registry",
      databaseName: "edge-registry",
      databaseId: PLACEHOLDER_DATABASE_ID,
      bucketName: "edge-registry-blobs",
    });
    expect(() => resourcesOf({ name: "x", d1_databases: [], r2_buckets: [] })).toThrow(/binding DB/);
    expect(() => resourcesOf({ ...CONFIG, vars: { REGISTRY_SIMULATED_GEOGRAPHY: "1" } })).toThrow(
      /REGISTRY_SIMULATED_GEOGRAPHY, which is for benchmarks and tests only/,
    );
  });

  it("creates the database when the account lacks it, else writes its id; a real id in wrangler.toml is kept", () => {
    const resources = resourcesOf(CONFIG);
    expect(databaseDecision(resources, "[]")).toEqual({ action: "create" });
    expect(databaseDecision(resources, JSON.stringify([{ uuid: "x", name: "other" }]))).toEqual({ action: "create" });
    expect(
      databaseDecision(
        resources,
        JSON.stringify([
          { uuid: "x", name: "other" },
          { uuid: ID, name: "edge-registry" },
        ]),
      ),
    ).toEqual({ action: "write-id", id: ID });
    expect(databaseDecision({ ...resources, databaseId: ID }, "this is not read")).toEqual({
      action: "configured",
      id: ID,
    });
    expect(() => databaseDecision(resources, "{}")).toThrow(/did not answer a list/);
  });

  it("replaces only the placeholder database_id", () => {
    const toml = `[[d1_databases]]\nbinding = "DB"\n# a comment mentioning database_id\ndatabase_id = "${PLACEHOLDER_DATABASE_ID}"\nmigrations_dir = "migrations"\n`;
    expect(withDatabaseId(toml, ID)).toBe(toml.replace(PLACEHOLDER_DATABASE_ID, ID));
    expect(() => withDatabaseId(withDatabaseId(toml, ID), ID)).toThrow(/no database_id = .* line to replace/);
    expect(() => withDatabaseId(toml, "not-an-id")).toThrow(/not a D1 database id/);
  });

  it("finds the replica buckets of REPLICA_REGIONS with the location hint nearest each region", () => {
    const config = {
      vars: { REPLICA_REGIONS: "eu-west-1=BLOBS_EU, ap-southeast-1=BLOBS_AP" },
      r2_buckets: [
        { binding: "BLOBS", bucket_name: "blobs" },
        { binding: "BLOBS_EU", bucket_name: "blobs-eu" },
        { binding: "BLOBS_AP", bucket_name: "blobs-ap" },
      ],
    };
    expect(replicaBucketsOf(config)).toEqual([
      { region: "eu-west-1", bucketName: "blobs-eu", locationHint: "weur" },
      { region: "ap-southeast-1", bucketName: "blobs-ap", locationHint: "apac" },
    ]);
    expect(replicaBucketsOf({ r2_buckets: [] })).toEqual([]);
    expect(() => replicaBucketsOf({ vars: { REPLICA_REGIONS: "eu-west-1=NOPE" }, r2_buckets: [] })).toThrow(/NOPE/);
    expect(
      [
        "us-west-2",
        "us-east-1",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "sa-east-1",
      ].map(locationHintOf),
    ).toEqual(["wnam", "enam", "enam", "eeur", "weur", "oc", "apac", null]);
  });

  it("reads bucket names from wrangler r2 bucket list", () => {
    const listing =
      "Listing buckets...\nname:           edge-registry-blobs\ncreation_date:  2026-01-01T00:00:00.000Z\n\nname:           logs\ncreation_date:  2026-02-01T00:00:00.000Z\n";
    expect(bucketNames(listing)).toEqual(["edge-registry-blobs", "logs"]);
    expect(bucketNames("Listing buckets...\n")).toEqual([]);
  });

  it("finds the missing secret groups, and the half-set ones", () => {
    expect(secretGroups(null).missing).toHaveLength(3);
    const list = (...names: string[]) => JSON.stringify(names.map((name) => ({ name, type: "secret_text" })));
    expect(
      secretGroups(
        list("REGISTRY_ADMIN_ACCESS_KEY_ID", "REGISTRY_ADMIN_SECRET_ACCESS_KEY", "REGISTRY_TOKEN_SIGNING_KEY"),
      ),
    ).toEqual({ missing: [["REGISTRY_SECRETS_KEY"]], incomplete: [] });
    expect(
      secretGroups(list("REGISTRY_ADMIN_SECRET_ACCESS_KEY", "REGISTRY_TOKEN_SIGNING_KEY", "REGISTRY_SECRETS_KEY")),
    ).toEqual({
      missing: [],
      incomplete: [{ present: ["REGISTRY_ADMIN_SECRET_ACCESS_KEY"], absent: ["REGISTRY_ADMIN_ACCESS_KEY_ID"] }],
    });
  });

  it("finds the workers.dev URL in wrangler deploy's output", () => {
    expect(
      deployedUrl(
        "Uploaded edge-registry (3.10 sec)\nDeployed edge-registry triggers (0.80 sec)\n  https://edge-registry.acme.workers.dev\n  schedule: */15 * * * *\n",
      ),
    ).toBe("https://edge-registry.acme.workers.dev");
    expect(deployedUrl("Deployed edge-registry triggers\n  registry.example.com (custom domain)\n")).toBeNull();
  });

  it("lists each queue wrangler.toml names once: producers, consumers, dead-letter queues", () => {
    expect(
      queuesOf({
        queues: {
          producers: [{ queue: "scans" }],
          consumers: [{ queue: "scans", dead_letter_queue: "scans-dlq" }, { queue: "scans-dlq" }],
        },
      }),
    ).toEqual(["scans", "scans-dlq"]);
    expect(queuesOf({})).toEqual([]);
  });
});
