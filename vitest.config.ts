import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { newAdminKey, newSecretsKey, newSigningKeyJwk } from "./scripts/dev-vars.mjs";
import { dropResetNoise, isolatedWranglerConfig } from "./scripts/test-isolation.mjs";

// The tests never see the developer's .dev.vars, and workerd's reports of cache writes cut off
// by the reset between tests are not printed.
const wranglerConfigPath = isolatedWranglerConfig();
dropResetNoise();

// Fresh secrets for every test run: a bootstrap admin, the signing key, and a second key that
// is still accepted for verification (a key being rotated out), whose private half the tests
// use to sign with it.
const admin = newAdminKey();
const signingKey = await newSigningKeyJwk();
const rotatedKey = await newSigningKeyJwk();
const { d: _rotatedPrivate, ...rotatedPublic } = rotatedKey;

/** A project running inside workerd with real D1, R2 and Durable Objects. */
function workersProject(
  name: string,
  include: string[],
  extraBindings: Record<string, string> = {},
  extraStorage: { r2Buckets?: string[]; d1Databases?: string[] } = {},
) {
  return {
    plugins: [
      cloudflareTest(async () => {
        const migrations = await readD1Migrations("./migrations");
        return {
          wrangler: { configPath: wranglerConfigPath },
          miniflare: {
            bindings: {
              TEST_MIGRATIONS: migrations,
              REGISTRY_ACCOUNT_ID: "123456789012",
              REGISTRY_ADMIN_ACCESS_KEY_ID: admin.id,
              REGISTRY_ADMIN_SECRET_ACCESS_KEY: admin.secret,
              REGISTRY_TOKEN_SIGNING_KEY: JSON.stringify(signingKey),
              REGISTRY_TOKEN_VERIFICATION_KEYS: JSON.stringify([rotatedPublic]),
              REGISTRY_SECRETS_KEY: newSecretsKey(),
              TEST_ROTATED_SIGNING_KEY: JSON.stringify(rotatedKey),
              // A regional replica bucket beside the home one (replication's destinations).
              REPLICA_REGIONS: "eu-west-1=BLOBS_EU_WEST_1",
              ...extraBindings,
            },
            r2Buckets: ["BLOBS", "BLOBS_EU_WEST_1", ...(extraStorage.r2Buckets ?? [])],
            ...(extraStorage.d1Databases ? { d1Databases: ["DB", ...extraStorage.d1Databases] } : {}),
          },
        };
      }),
    ],
    test: { name, include, setupFiles: ["./test/support/apply-migrations.ts"], testTimeout: 30_000 },
  };
}

export default defineConfig({
  test: {
    projects: [
      // Unit tests sit beside the code they test (src/**, and the pure helpers of scripts/);
      // integration tests under test/integration.
      workersProject("workers", ["src/**/*.test.ts", "scripts/**/*.test.ts", "test/integration/**/*.test.ts"]),
      // The same, with the bench-only operation counters on: asserts what each operation costs.
      workersProject("workers-cost", ["test/cost/**/*.test.ts"], { REGISTRY_BENCH_MODE: "1" }),
      // The same, with simulated geography (src/bench/simulated-geography.ts): a second replica
      // bucket, a simulated D1 read replica, and the pull caches on for 2 s.
      workersProject(
        "workers-geography",
        ["test/geography/**/*.test.ts"],
        {
          REGISTRY_BENCH_MODE: "1",
          REGISTRY_SIMULATED_GEOGRAPHY: "1",
          READ_CACHE_SECONDS: "2",
          REPLICA_REGIONS: "eu-west-1=BLOBS_EU_WEST_1,ap-southeast-1=BLOBS_AP_SOUTHEAST_1",
        },
        { r2Buckets: ["BLOBS_AP_SOUTHEAST_1"], d1Databases: ["SIMULATED_D1_REPLICA"] },
      ),
      // The same, with blob GETs redirected to presigned R2 URLs (the optional production path).
      workersProject("workers-redirect", ["test/redirect/**/*.test.ts"], {
        R2_S3_ACCESS_KEY_ID: "test-access-key",
        R2_S3_SECRET_ACCESS_KEY: "test-secret-key",
        R2_S3_BUCKET_URL: "https://0123456789abcdef.r2.cloudflarestorage.com/edge-registry-blobs",
        BLOB_REDIRECT_SECONDS: "120",
      }),
      {
        // Real clients (skopeo) against a registry started with `npm start`.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["./test/e2e/global-setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
