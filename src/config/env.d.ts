/**
 * The Worker's secrets and optional variables, which `wrangler types` cannot see (they are not
 * in wrangler.toml [vars]): merged into the generated Env (worker-configuration.d.ts). Typed
 * as `wrangler types` types a secret (a string), so generating the types with a .dev.vars
 * present merges cleanly; each may still be missing at run time, and src/config/settings.ts,
 * their only reader, treats them so.
 */
declare namespace Cloudflare {
  interface Env {
    REGISTRY_ADMIN_ACCESS_KEY_ID: string;
    REGISTRY_ADMIN_SECRET_ACCESS_KEY: string;
    REGISTRY_TOKEN_SIGNING_KEY: string;
    REGISTRY_TOKEN_VERIFICATION_KEYS: string;
    REGISTRY_SECRETS_KEY: string;
    /** Presigned blob redirects (optional): an R2 API token's S3 credentials and the bucket URL. */
    R2_S3_ACCESS_KEY_ID: string;
    R2_S3_SECRET_ACCESS_KEY: string;
    R2_S3_BUCKET_URL: string;
    R2_S3_REGION: string;
    BLOB_REDIRECT_SECONDS: string;
    /** "1" turns on the benchmark routes and operation counters (bench/ sets it). */
    REGISTRY_BENCH_MODE: string;
    /** Regional replicas (optional): `region=BINDING` pairs naming R2 buckets bound beside BLOBS. */
    REPLICA_REGIONS: string;
    /** Seconds before a failed replication is first retried (default 60, then doubling). */
    REPLICATION_RETRY_SECONDS: string;
    /** "always" (default) or "template": whether a push may create a repository no template covers. */
    CREATE_ON_PUSH: string;
  }
}
