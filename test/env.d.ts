declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    REGISTRY_ADMIN_ACCESS_KEY_ID: string;
    REGISTRY_ADMIN_SECRET_ACCESS_KEY: string;
    REGISTRY_TOKEN_SIGNING_KEY: string;
    REGISTRY_TOKEN_VERIFICATION_KEYS: string;
    /** Private JWK of the key listed in REGISTRY_TOKEN_VERIFICATION_KEYS. */
    TEST_ROTATED_SIGNING_KEY: string;
  }
}
