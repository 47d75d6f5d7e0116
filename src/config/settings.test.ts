/**
 * The configuration parser (src/config/settings.ts): every variable's default, values taken,
 * and a malformed value refused naming the variable, except where the older rule of falling
 * back to the default is kept.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_BLOB_MAX_BYTES, DEFAULT_THROTTLE_SETTINGS, parseSettings, type SettingVars } from "./settings";
import { ConfigurationError } from "../errors";

function refused(vars: SettingVars): string {
  try {
    parseSettings(vars);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.message;
    throw error;
  }
  throw new Error("the settings were accepted");
}

describe("parseSettings", () => {
  it("gives every setting its default when nothing is set", () => {
    expect(parseSettings({})).toEqual({
      manifestMaxBytes: 4_194_304,
      blobMaxBytes: 52_000 * 1024 * 1024,
      requestBodyTimeoutMs: 60_000,
      pullRecordIntervalMs: 60_000,
      gcGraceMs: 3_600_000,
      createOnPush: "always",
      replicationRetryMs: 60_000,
      pullThroughTagRevalidateMs: 86_400_000,
      loginThrottle: { keyFailures: 10, ipFailures: 30, windowMs: 60_000 },
      benchMode: false,
      auth: {
        accountId: "000000000000",
        region: "us-east-1",
        service: "edge-registry",
        admin: null,
        tokenSigningKey: null,
        tokenVerificationKeys: null,
        secretsKey: null,
      },
      presign: null,
      replicaRegions: [],
      readCacheMs: 0,
      edgeCacheMaxBytes: 512_000_000,
      simulatedGeography: false,
      advisorySources: [],
      auditRetentionMs: 90 * 86_400_000,
      eventRetryMs: 30_000,
      eventDeliveryAttempts: 8,
    });
  });

  it("refuses a retention of 0 days, a negative retry wait and 0 delivery attempts", () => {
    expect(() => parseSettings({ AUDIT_RETENTION_DAYS: "0" })).toThrow(/AUDIT_RETENTION_DAYS/);
    expect(() => parseSettings({ EVENT_RETRY_SECONDS: "-1" })).toThrow(/EVENT_RETRY_SECONDS/);
    expect(() => parseSettings({ EVENT_DELIVERY_ATTEMPTS: "0" })).toThrow(/EVENT_DELIVERY_ATTEMPTS/);
    expect(parseSettings({ EVENT_RETRY_SECONDS: "1", EVENT_DELIVERY_ATTEMPTS: "3" })).toMatchObject({
      eventRetryMs: 1000,
      eventDeliveryAttempts: 3,
    });
  });

  it("reads the advisory sources", () => {
    expect(
      parseSettings({ ADVISORY_SOURCES: "https://osv.example/Debian/, http://127.0.0.1:9/Alpine" }).advisorySources,
    ).toEqual(["https://osv.example/Debian", "http://127.0.0.1:9/Alpine"]);
  });

  it("reads the pull caches and the simulated geography", () => {
    const settings = parseSettings({
      READ_CACHE_SECONDS: "2.5",
      EDGE_CACHE_MAX_BYTES: "0",
      REGISTRY_SIMULATED_GEOGRAPHY: "1",
    });
    expect(settings.readCacheMs).toBe(2500);
    expect(settings.edgeCacheMaxBytes).toBe(0);
    expect(settings.simulatedGeography).toBe(true);
    expect(parseSettings({ REGISTRY_SIMULATED_GEOGRAPHY: "yes" }).simulatedGeography).toBe(false);
  });

  it("treats an empty value as unset", () => {
    expect(
      parseSettings({
        MANIFEST_MAX_BYTES: "",
        GC_GRACE_SECONDS: "",
        REGISTRY_ACCOUNT_ID: "",
        REGISTRY_SECRETS_KEY: "",
      }),
    ).toEqual(parseSettings({}));
  });

  it("takes the values set", () => {
    const settings = parseSettings({
      MANIFEST_MAX_BYTES: "1000",
      BLOB_MAX_BYTES: "5000",
      REQUEST_BODY_TIMEOUT_SECONDS: "0.5",
      PULL_RECORD_INTERVAL_SECONDS: "0",
      GC_GRACE_SECONDS: "1.5",
      PULL_THROUGH_TAG_REVALIDATE_SECONDS: "10",
      LOGIN_THROTTLE_KEY_FAILURES: "5",
      LOGIN_THROTTLE_IP_FAILURES: "0",
      LOGIN_THROTTLE_WINDOW_SECONDS: "1.5",
      REGISTRY_BENCH_MODE: "1",
      REGISTRY_ACCOUNT_ID: "123456789012",
      REGISTRY_REGION: "eu-west-1",
      REGISTRY_SERVICE: "registry.example",
      REGISTRY_ADMIN_ACCESS_KEY_ID: "AKIAEXAMPLE",
      REGISTRY_ADMIN_SECRET_ACCESS_KEY: "secret",
      REGISTRY_TOKEN_SIGNING_KEY: "{}",
      REGISTRY_TOKEN_VERIFICATION_KEYS: "[]",
      REGISTRY_SECRETS_KEY: "key",
      CREATE_ON_PUSH: "template",
      REPLICATION_RETRY_SECONDS: "2",
    });
    expect(settings).toMatchObject({
      createOnPush: "template",
      replicationRetryMs: 2000,
      manifestMaxBytes: 1000,
      blobMaxBytes: 5000,
      requestBodyTimeoutMs: 500,
      pullRecordIntervalMs: 0,
      gcGraceMs: 1500,
      pullThroughTagRevalidateMs: 10_000,
      loginThrottle: { keyFailures: 5, ipFailures: 0, windowMs: 1500 },
      benchMode: true,
      auth: {
        accountId: "123456789012",
        region: "eu-west-1",
        service: "registry.example",
        admin: { accessKeyId: "AKIAEXAMPLE", secret: "secret" },
        tokenSigningKey: "{}",
        tokenVerificationKeys: "[]",
        secretsKey: "key",
      },
    });
    expect(parseSettings({ REGISTRY_BENCH_MODE: "yes" }).benchMode).toBe(false);
  });

  it.each<[SettingVars, RegExp]>([
    [{ MANIFEST_MAX_BYTES: "lots" }, /^MANIFEST_MAX_BYTES must be a whole number of bytes, 1 or more \(got "lots"\)$/],
    [{ MANIFEST_MAX_BYTES: "0" }, /^MANIFEST_MAX_BYTES /],
    [{ MANIFEST_MAX_BYTES: "1e6" }, /^MANIFEST_MAX_BYTES /],
    [
      { PULL_RECORD_INTERVAL_SECONDS: "-1" },
      /^PULL_RECORD_INTERVAL_SECONDS must be a number of seconds, 0 or more \(got "-1"\)$/,
    ],
    [{ GC_GRACE_SECONDS: "an hour" }, /^GC_GRACE_SECONDS /],
    [{ CREATE_ON_PUSH: "never" }, /^CREATE_ON_PUSH must be "always" or "template" \(got "never"\)$/],
    [{ REPLICATION_RETRY_SECONDS: "soon" }, /^REPLICATION_RETRY_SECONDS /],
    [{ GC_GRACE_SECONDS: "Infinity" }, /^GC_GRACE_SECONDS /],
    [{ PULL_THROUGH_TAG_REVALIDATE_SECONDS: " " }, /^PULL_THROUGH_TAG_REVALIDATE_SECONDS /],
    [{ REGISTRY_ACCOUNT_ID: "12345" }, /^REGISTRY_ACCOUNT_ID must be 12 digits$/],
    [
      { REGISTRY_ADMIN_ACCESS_KEY_ID: "AKIAEXAMPLE" },
      /^REGISTRY_ADMIN_ACCESS_KEY_ID and REGISTRY_ADMIN_SECRET_ACCESS_KEY must be set together$/,
    ],
    [{ REGISTRY_ADMIN_SECRET_ACCESS_KEY: "secret" }, /must be set together$/],
    [{ REPLICA_REGIONS: "eu-west-1" }, /^REPLICA_REGIONS must list region=BINDING pairs .*"eu-west-1" is not/],
    [{ REPLICA_REGIONS: "EU=BLOBS_EU" }, /^REPLICA_REGIONS .*"EU=BLOBS_EU" is not/],
    [{ REPLICA_REGIONS: "eu-west-1=blobs-eu" }, /^REPLICA_REGIONS .*is not a region/],
    [{ REPLICA_REGIONS: "eu-west-1=A=B" }, /^REPLICA_REGIONS /],
    [{ REPLICA_REGIONS: "us-east-1=BLOBS_US" }, /^REPLICA_REGIONS .*us-east-1 is this registry's own region/],
    [{ REPLICA_REGIONS: "eu-west-1=BLOBS" }, /^REPLICA_REGIONS .*BLOBS is the home bucket/],
    [{ REPLICA_REGIONS: "eu-west-1=B1,eu-west-1=B2" }, /^REPLICA_REGIONS .*eu-west-1 is listed twice/],
    [{ REPLICA_REGIONS: "eu-west-1=B1,eu-west-2=B1" }, /^REPLICA_REGIONS .*B1 is listed twice/],
    [{ REPLICA_REGIONS: "eu-west-1=B1," }, /^REPLICA_REGIONS .*"" is not/],
    [{ READ_CACHE_SECONDS: "-1" }, /^READ_CACHE_SECONDS must be a number of seconds/],
    [{ ADVISORY_SOURCES: "ftp://osv.example/Debian" }, /^ADVISORY_SOURCES must list http\(s\) URLs/],
    [{ READ_CACHE_SECONDS: "3601" }, /^READ_CACHE_SECONDS must be at most 3600/],
    [{ EDGE_CACHE_MAX_BYTES: "512MB" }, /^EDGE_CACHE_MAX_BYTES must be a whole number of bytes/],
  ])("refuses %o naming the variable", (vars, message) => {
    expect(refused(vars)).toMatch(message);
  });

  it("keeps the older rule for BLOB_MAX_BYTES, REQUEST_BODY_TIMEOUT_SECONDS and LOGIN_THROTTLE_*: a malformed value takes the default", () => {
    expect(parseSettings({ BLOB_MAX_BYTES: "lots" }).blobMaxBytes).toBe(DEFAULT_BLOB_MAX_BYTES);
    expect(parseSettings({ BLOB_MAX_BYTES: "0" }).blobMaxBytes).toBe(DEFAULT_BLOB_MAX_BYTES);
    expect(parseSettings({ BLOB_MAX_BYTES: String(2 ** 60) }).blobMaxBytes).toBe(DEFAULT_BLOB_MAX_BYTES);
    expect(parseSettings({ REQUEST_BODY_TIMEOUT_SECONDS: "-1" }).requestBodyTimeoutMs).toBe(60_000);
    expect(parseSettings({ REQUEST_BODY_TIMEOUT_SECONDS: "0" }).requestBodyTimeoutMs).toBe(60_000);
    expect(
      parseSettings({
        LOGIN_THROTTLE_KEY_FAILURES: "-1",
        LOGIN_THROTTLE_IP_FAILURES: "many",
        LOGIN_THROTTLE_WINDOW_SECONDS: "0",
      }).loginThrottle,
    ).toEqual(DEFAULT_THROTTLE_SETTINGS);
    expect(parseSettings({ LOGIN_THROTTLE_IP_FAILURES: "2.5" }).loginThrottle).toMatchObject({
      keyFailures: 10,
      ipFailures: 30,
    });
  });

  it("reads the replica regions, spaces allowed around the pairs", () => {
    expect(
      parseSettings({ REPLICA_REGIONS: "eu-west-1=BLOBS_EU_WEST_1 , ap-southeast-1 = BLOBS_AP_SOUTHEAST_1" })
        .replicaRegions,
    ).toEqual([
      { region: "eu-west-1", binding: "BLOBS_EU_WEST_1" },
      { region: "ap-southeast-1", binding: "BLOBS_AP_SOUTHEAST_1" },
    ]);
    // The home region is REGISTRY_REGION's, so us-east-1 is a replica when the home is elsewhere.
    expect(
      parseSettings({ REGISTRY_REGION: "eu-central-1", REPLICA_REGIONS: "us-east-1=BLOBS_US" }).replicaRegions,
    ).toEqual([{ region: "us-east-1", binding: "BLOBS_US" }]);
  });

  it("turns presigned redirects on only with both S3 credentials and the bucket URL", () => {
    const s3 = {
      R2_S3_ACCESS_KEY_ID: "id",
      R2_S3_SECRET_ACCESS_KEY: "secret",
      R2_S3_BUCKET_URL: "https://account.r2.cloudflarestorage.com/bucket//",
    };
    expect(parseSettings({ ...s3, R2_S3_BUCKET_URL: "" }).presign).toBeNull();
    expect(parseSettings({ R2_S3_ACCESS_KEY_ID: "id", R2_S3_BUCKET_URL: "https://x" }).presign).toBeNull();
    expect(parseSettings(s3).presign).toEqual({
      accessKeyId: "id",
      secretAccessKey: "secret",
      bucketUrl: "https://account.r2.cloudflarestorage.com/bucket",
      region: "auto",
      seconds: 300,
    });
    expect(parseSettings({ ...s3, R2_S3_REGION: "wnam", BLOB_REDIRECT_SECONDS: "120" }).presign).toMatchObject({
      region: "wnam",
      seconds: 120,
    });
    expect(refused({ ...s3, BLOB_REDIRECT_SECONDS: "soon" })).toMatch(
      /^BLOB_REDIRECT_SECONDS must be a whole number of seconds/,
    );
    expect(refused({ ...s3, BLOB_REDIRECT_SECONDS: "604801" })).toMatch(
      /^BLOB_REDIRECT_SECONDS must be at most 604800/,
    );
  });
});
