declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    REGISTRY_ADMIN_ACCESS_KEY_ID: string;
    REGISTRY_ADMIN_SECRET_ACCESS_KEY: string;
    REGISTRY_TOKEN_SIGNING_KEY: string;
    REGISTRY_TOKEN_VERIFICATION_KEYS: string;
    /** Private JWK of the key listed in REGISTRY_TOKEN_VERIFICATION_KEYS. */
    TEST_ROTATED_SIGNING_KEY: string;
    /** The replica bucket of region eu-west-1 (REPLICA_REGIONS in vitest.config.ts). */
    BLOBS_EU_WEST_1: R2Bucket;
    /** The replica bucket of region ap-southeast-1 (the workers-geography project only). */
    BLOBS_AP_SOUTHEAST_1?: R2Bucket;
    /** The simulated D1 read replica (the workers-geography project only; src/bench/simulated-geography.ts). */
    SIMULATED_D1_REPLICA?: D1Database;
  }
}
