/**
 * The registry's configuration as one typed object, parsed from the Worker's variables and
 * secrets (wrangler.toml [vars], `wrangler secret put`, .dev.vars locally) by a pure function.
 * Every setting has its default here; a malformed value is a ConfigurationError naming the
 * variable (503 on every request, logged once; see src/app.ts), except where an older rule of
 * falling back to the default is kept (BLOB_MAX_BYTES, REQUEST_BODY_TIMEOUT_SECONDS and the
 * LOGIN_THROTTLE_* limits). Secrets stay text here: turning them into keys is asynchronous and
 * belongs to their users (src/auth/config.ts, src/storage/presign.ts). An empty value counts as
 * unset. Leaf module: imports only src/errors.ts.
 */
import { ConfigurationError } from "../errors";

/** Every variable the registry reads. */
export const SETTING_NAMES = [
  "MANIFEST_MAX_BYTES",
  "BLOB_MAX_BYTES",
  "REQUEST_BODY_TIMEOUT_SECONDS",
  "PULL_RECORD_INTERVAL_SECONDS",
  "GC_GRACE_SECONDS",
  "REPLICATION_RETRY_SECONDS",
  "CREATE_ON_PUSH",
  "PULL_THROUGH_TAG_REVALIDATE_SECONDS",
  "LOGIN_THROTTLE_KEY_FAILURES",
  "LOGIN_THROTTLE_IP_FAILURES",
  "LOGIN_THROTTLE_WINDOW_SECONDS",
  "REGISTRY_BENCH_MODE",
  "REGISTRY_ACCOUNT_ID",
  "REGISTRY_REGION",
  "REGISTRY_SERVICE",
  "REGISTRY_ADMIN_ACCESS_KEY_ID",
  "REGISTRY_ADMIN_SECRET_ACCESS_KEY",
  "REGISTRY_TOKEN_SIGNING_KEY",
  "REGISTRY_TOKEN_VERIFICATION_KEYS",
  "REGISTRY_SECRETS_KEY",
  "R2_S3_ACCESS_KEY_ID",
  "R2_S3_SECRET_ACCESS_KEY",
  "R2_S3_BUCKET_URL",
  "R2_S3_REGION",
  "BLOB_REDIRECT_SECONDS",
  "REPLICA_REGIONS",
  "READ_CACHE_SECONDS",
  "EDGE_CACHE_MAX_BYTES",
  "REGISTRY_SIMULATED_GEOGRAPHY",
  "ADVISORY_SOURCES",
  "AUDIT_RETENTION_DAYS",
  "EVENT_RETRY_SECONDS",
  "EVENT_DELIVERY_ATTEMPTS",
] as const;

export type SettingName = (typeof SETTING_NAMES)[number];

/** The raw variables, as the Worker's Env holds them (any of them may be missing). */
export type SettingVars = { readonly [name in SettingName]?: string };

/** Failed-login throttling (src/auth/login-throttle.ts); a limit of 0 turns it off. */
export interface ThrottleSettings {
  /** Failures of one access key id per window before it is throttled. */
  keyFailures: number;
  /** Failures from one client address per window before it is throttled. */
  ipFailures: number;
  windowMs: number;
}

/** Authentication's settings; the secrets as text (src/auth/config.ts imports the keys). */
export interface AuthSettings {
  /** 12 digits, used in ARNs. */
  accountId: string;
  region: string;
  /** Token audience and the `service` of the auth challenge. */
  service: string;
  /** The bootstrap admin's access key (both halves or neither). */
  admin: { accessKeyId: string; secret: string } | null;
  /** Private ES256 JWK (JSON) that signs tokens. */
  tokenSigningKey: string | null;
  /** JSON array of public JWKs still accepted (keys being rotated out). */
  tokenVerificationKeys: string | null;
  /** 32 random bytes, base64: seals access-key secrets for SigV4. */
  secretsKey: string | null;
}

/** Presigned R2 URLs for blob GETs (src/storage/presign.ts); null when not configured. */
export interface PresignSettings {
  accessKeyId: string;
  secretAccessKey: string;
  /** https://<account-id>.r2.cloudflarestorage.com/<bucket-name>, without a trailing slash. */
  bucketUrl: string;
  region: string;
  /** Lifetime of a presigned URL. */
  seconds: number;
}

/** A regional replica: an R2 bucket placed near a group of users, named by an ECR region. */
export interface ReplicaRegion {
  region: string;
  /** The R2 binding of its bucket in wrangler.toml. */
  binding: string;
}

export interface Settings {
  /** MANIFEST_MAX_BYTES: the largest manifest accepted (a push, PutImage, or from an upstream). */
  manifestMaxBytes: number;
  /** BLOB_MAX_BYTES: the largest blob an upload may grow to. */
  blobMaxBytes: number;
  /** REQUEST_BODY_TIMEOUT_SECONDS: a body that stops arriving for this long is cut off. */
  requestBodyTimeoutMs: number;
  /** PULL_RECORD_INTERVAL_SECONDS: how often an isolate writes its buffered pull records. */
  pullRecordIntervalMs: number;
  /** GC_GRACE_SECONDS: how old an unreferenced link or object must be before it is collected. */
  gcGraceMs: number;
  /** PULL_THROUGH_TAG_REVALIDATE_SECONDS: how often a cached tag is checked upstream. */
  pullThroughTagRevalidateMs: number;
  /** REPLICATION_RETRY_SECONDS: the first wait before a failed replication is tried again (then doubling). */
  replicationRetryMs: number;
  /**
   * CREATE_ON_PUSH: "always" (the default: a push creates a missing repository, as clients
   * expect of a registry) or "template" (as ECR: only where a CREATE_ON_PUSH creation template
   * covers the name; otherwise the push is refused with NAME_UNKNOWN).
   */
  createOnPush: "always" | "template";
  loginThrottle: ThrottleSettings;
  /** REGISTRY_BENCH_MODE=1: the benchmark routes and operation counters (src/bench/). */
  benchMode: boolean;
  auth: AuthSettings;
  presign: PresignSettings | null;
  /** REPLICA_REGIONS: the replica buckets replication may name as destinations of this registry. */
  replicaRegions: readonly ReplicaRegion[];
  /**
   * READ_CACHE_SECONDS: how long a pull may be answered from the caches of tag → manifest,
   * manifest by digest and blob link (per isolate and per location; src/images/pull-reads.ts).
   * 0, the default, turns them off: every pull reads D1 and sees every change at once.
   */
  readCacheMs: number;
  /** EDGE_CACHE_MAX_BYTES: the largest blob kept in the location's cache (0: none). */
  edgeCacheMaxBytes: number;
  /**
   * REGISTRY_SIMULATED_GEOGRAPHY=1: requests may name a simulated location and every storage
   * binding answers with the latency of its distance (src/bench/simulated-geography.ts).
   * Benchmarks and tests only: `npm run deploy` refuses to deploy it.
   */
  simulatedGeography: boolean;
  /**
   * AUDIT_RETENTION_DAYS: how long audit records, events and their delivery log are kept in D1
   * (the audit job deletes older records once exported to R2; the events job older events).
   */
  auditRetentionMs: number;
  /** EVENT_RETRY_SECONDS: the first wait before a failed webhook delivery is tried again (then doubling). */
  eventRetryMs: number;
  /** EVENT_DELIVERY_ATTEMPTS: attempts per delivery before it is dead-lettered. */
  eventDeliveryAttempts: number;
  /**
   * ADVISORY_SOURCES: OSV folders (one per ecosystem, as OSV.dev publishes them) the
   * `advisories` job keeps the advisory store current from; none by default.
   */
  advisorySources: readonly string[];
}

/** ECR's layer size limit (52,000 MiB, not adjustable). */
export const DEFAULT_BLOB_MAX_BYTES = 52_000 * 1024 * 1024;
export const DEFAULT_THROTTLE_SETTINGS: ThrottleSettings = { keyFailures: 10, ipFailures: 30, windowMs: 60_000 };

const DEFAULTS = {
  manifestMaxBytes: 4 * 1024 * 1024,
  requestBodyTimeoutSeconds: 60,
  pullRecordIntervalSeconds: 60,
  gcGraceSeconds: 3600,
  replicationRetrySeconds: 60,
  pullThroughTagRevalidateSeconds: 86_400,
  accountId: "000000000000",
  region: "us-east-1",
  service: "edge-registry",
  r2Region: "auto",
  blobRedirectSeconds: 300,
  readCacheSeconds: 0,
  // The Cache API keeps objects up to 512 MB on the Free, Pro and Business plans (5 GB on
  // Enterprise, which may raise this).
  edgeCacheMaxBytes: 512_000_000,
  // CloudTrail's event history keeps 90 days.
  auditRetentionDays: 90,
  eventRetrySeconds: 30,
  eventDeliveryAttempts: 8,
} as const;

/** A cached read may be an hour old at most, whatever READ_CACHE_SECONDS says. */
const MAX_READ_CACHE_SECONDS = 3600;

/** The longest lifetime S3 allows a presigned URL (7 days). */
const MAX_PRESIGN_SECONDS = 604_800;

/** Parses every setting; throws a ConfigurationError naming the first malformed one. */
export function parseSettings(vars: SettingVars): Settings {
  const text = (name: SettingName): string | null => {
    const value = vars[name];
    return value === undefined || value === "" ? null : value;
  };
  return {
    manifestMaxBytes: wholeNumber(
      text("MANIFEST_MAX_BYTES"),
      "MANIFEST_MAX_BYTES",
      DEFAULTS.manifestMaxBytes,
      1,
      "bytes",
    ),
    blobMaxBytes: blobMaxBytes(text("BLOB_MAX_BYTES")),
    requestBodyTimeoutMs: bodyTimeoutSeconds(text("REQUEST_BODY_TIMEOUT_SECONDS")) * 1000,
    pullRecordIntervalMs:
      seconds(
        text("PULL_RECORD_INTERVAL_SECONDS"),
        "PULL_RECORD_INTERVAL_SECONDS",
        DEFAULTS.pullRecordIntervalSeconds,
      ) * 1000,
    gcGraceMs: seconds(text("GC_GRACE_SECONDS"), "GC_GRACE_SECONDS", DEFAULTS.gcGraceSeconds) * 1000,
    createOnPush: createOnPush(text("CREATE_ON_PUSH")),
    replicationRetryMs:
      seconds(text("REPLICATION_RETRY_SECONDS"), "REPLICATION_RETRY_SECONDS", DEFAULTS.replicationRetrySeconds) * 1000,
    pullThroughTagRevalidateMs:
      seconds(
        text("PULL_THROUGH_TAG_REVALIDATE_SECONDS"),
        "PULL_THROUGH_TAG_REVALIDATE_SECONDS",
        DEFAULTS.pullThroughTagRevalidateSeconds,
      ) * 1000,
    loginThrottle: throttleSettings(
      text("LOGIN_THROTTLE_KEY_FAILURES"),
      text("LOGIN_THROTTLE_IP_FAILURES"),
      text("LOGIN_THROTTLE_WINDOW_SECONDS"),
    ),
    benchMode: text("REGISTRY_BENCH_MODE") === "1",
    auth: authSettings(text),
    presign: presignSettings(text),
    replicaRegions: replicaRegions(text("REPLICA_REGIONS"), text("REGISTRY_REGION") ?? DEFAULTS.region),
    readCacheMs: readCacheSeconds(text("READ_CACHE_SECONDS")) * 1000,
    edgeCacheMaxBytes: wholeNumber(
      text("EDGE_CACHE_MAX_BYTES"),
      "EDGE_CACHE_MAX_BYTES",
      DEFAULTS.edgeCacheMaxBytes,
      0,
      "bytes",
    ),
    simulatedGeography: text("REGISTRY_SIMULATED_GEOGRAPHY") === "1",
    advisorySources: advisorySources(text("ADVISORY_SOURCES")),
    auditRetentionMs:
      wholeNumber(text("AUDIT_RETENTION_DAYS"), "AUDIT_RETENTION_DAYS", DEFAULTS.auditRetentionDays, 1, "days") *
      86_400_000,
    eventRetryMs: seconds(text("EVENT_RETRY_SECONDS"), "EVENT_RETRY_SECONDS", DEFAULTS.eventRetrySeconds) * 1000,
    eventDeliveryAttempts: wholeNumber(
      text("EVENT_DELIVERY_ATTEMPTS"),
      "EVENT_DELIVERY_ATTEMPTS",
      DEFAULTS.eventDeliveryAttempts,
      1,
      "attempts",
    ),
  };
}

const REGION = /^[0-9a-z-]{2,25}$/;
const BINDING = /^[A-Z][A-Z0-9_]*$/;

/**
 * REPLICA_REGIONS: `region=BINDING` pairs separated by commas (`eu-west-1=BLOBS_EU_WEST_1`),
 * each a replica bucket's ECR region name and its R2 binding; never the home region or bucket.
 */
function replicaRegions(value: string | null, homeRegion: string): ReplicaRegion[] {
  if (value === null) return [];
  const replicas: ReplicaRegion[] = [];
  for (const entry of value.split(",").map((part) => part.trim())) {
    const [region = "", binding = "", ...rest] = entry.split("=").map((part) => part.trim());
    const malformed = (why: string) =>
      new ConfigurationError(`REPLICA_REGIONS must list region=BINDING pairs separated by commas: ${why}`);
    if (rest.length > 0 || !REGION.test(region) || !BINDING.test(binding)) {
      throw malformed(`"${entry}" is not a region (a-z, 0-9, -) = an R2 binding name (A-Z, 0-9, _)`);
    }
    if (region === homeRegion) throw malformed(`${region} is this registry's own region (REGISTRY_REGION)`);
    if (binding === "BLOBS") throw malformed("BLOBS is the home bucket");
    if (replicas.some((replica) => replica.region === region)) throw malformed(`${region} is listed twice`);
    if (replicas.some((replica) => replica.binding === binding)) throw malformed(`${binding} is listed twice`);
    replicas.push({ region, binding });
  }
  return replicas;
}

/** ADVISORY_SOURCES: http(s) URLs separated by commas, without a trailing slash. */
function advisorySources(value: string | null): string[] {
  if (value === null) return [];
  return value.split(",").map((part) => {
    const url = part.trim().replace(/\/+$/, "");
    let parsed: URL | null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (parsed === null || (parsed.protocol !== "https:" && parsed.protocol !== "http:"))
      throw new ConfigurationError(`ADVISORY_SOURCES must list http(s) URLs separated by commas ("${url}" is not one)`);
    return url;
  });
}

function readCacheSeconds(value: string | null): number {
  const parsed = seconds(value, "READ_CACHE_SECONDS", DEFAULTS.readCacheSeconds);
  if (parsed > MAX_READ_CACHE_SECONDS)
    throw new ConfigurationError(`READ_CACHE_SECONDS must be at most ${MAX_READ_CACHE_SECONDS} (got "${value}")`);
  return parsed;
}

function createOnPush(value: string | null): "always" | "template" {
  if (value === null || value === "always") return "always";
  if (value === "template") return "template";
  throw new ConfigurationError(`CREATE_ON_PUSH must be "always" or "template" (got "${value}")`);
}

/** A decimal number of seconds (a fraction is fine), at least 0. */
function seconds(value: string | null, name: SettingName, fallback: number): number {
  if (value === null) return fallback;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || parsed < 0) {
    throw new ConfigurationError(`${name} must be a number of seconds, 0 or more (got "${value}")`);
  }
  return parsed;
}

/** A whole number of at least `min`. */
function wholeNumber(value: string | null, name: SettingName, fallback: number, min: number, unit: string): number {
  if (value === null) return fallback;
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min) {
    throw new ConfigurationError(`${name} must be a whole number of ${unit}, ${min} or more (got "${value}")`);
  }
  return parsed;
}

// The next three keep the rule they were built with (and tested for): a missing or malformed
// value takes the default.

/** BLOB_MAX_BYTES: ASCII digits, more than 0, a safe integer. */
function blobMaxBytes(value: string | null): number {
  const parsed = value !== null && /^\d+$/.test(value) ? Number(value) : null;
  return parsed !== null && parsed > 0 && Number.isSafeInteger(parsed) ? parsed : DEFAULT_BLOB_MAX_BYTES;
}

/** REQUEST_BODY_TIMEOUT_SECONDS: more than 0, a fraction is fine. */
function bodyTimeoutSeconds(value: string | null): number {
  const parsed = Number(value ?? Number.NaN);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : DEFAULTS.requestBodyTimeoutSeconds;
}

function throttleSettings(
  keyFailures: string | null,
  ipFailures: string | null,
  windowSeconds: string | null,
): ThrottleSettings {
  const count = (value: string | null, fallback: number): number => {
    const parsed = Number(value);
    return value !== null && value.trim() !== "" && Number.isSafeInteger(parsed) && parsed >= 0 ? parsed : fallback;
  };
  const window = Number(windowSeconds ?? Number.NaN);
  return {
    keyFailures: count(keyFailures, DEFAULT_THROTTLE_SETTINGS.keyFailures),
    ipFailures: count(ipFailures, DEFAULT_THROTTLE_SETTINGS.ipFailures),
    windowMs: Number.isFinite(window) && window > 0 ? Math.round(window * 1000) : DEFAULT_THROTTLE_SETTINGS.windowMs,
  };
}

function authSettings(text: (name: SettingName) => string | null): AuthSettings {
  const accountId = text("REGISTRY_ACCOUNT_ID") ?? DEFAULTS.accountId;
  if (!/^\d{12}$/.test(accountId)) throw new ConfigurationError("REGISTRY_ACCOUNT_ID must be 12 digits");
  const adminId = text("REGISTRY_ADMIN_ACCESS_KEY_ID");
  const adminSecret = text("REGISTRY_ADMIN_SECRET_ACCESS_KEY");
  if ((adminId === null) !== (adminSecret === null)) {
    throw new ConfigurationError(
      "REGISTRY_ADMIN_ACCESS_KEY_ID and REGISTRY_ADMIN_SECRET_ACCESS_KEY must be set together",
    );
  }
  return {
    accountId,
    region: text("REGISTRY_REGION") ?? DEFAULTS.region,
    service: text("REGISTRY_SERVICE") ?? DEFAULTS.service,
    admin: adminId !== null && adminSecret !== null ? { accessKeyId: adminId, secret: adminSecret } : null,
    tokenSigningKey: text("REGISTRY_TOKEN_SIGNING_KEY"),
    tokenVerificationKeys: text("REGISTRY_TOKEN_VERIFICATION_KEYS"),
    secretsKey: text("REGISTRY_SECRETS_KEY"),
  };
}

/** Redirects are on when the S3 credentials and the bucket URL are all set. */
function presignSettings(text: (name: SettingName) => string | null): PresignSettings | null {
  const accessKeyId = text("R2_S3_ACCESS_KEY_ID");
  const secretAccessKey = text("R2_S3_SECRET_ACCESS_KEY");
  const bucketUrl = text("R2_S3_BUCKET_URL");
  if (accessKeyId === null || secretAccessKey === null || bucketUrl === null) return null;
  const seconds = wholeNumber(
    text("BLOB_REDIRECT_SECONDS"),
    "BLOB_REDIRECT_SECONDS",
    DEFAULTS.blobRedirectSeconds,
    1,
    "seconds",
  );
  if (seconds > MAX_PRESIGN_SECONDS)
    throw new ConfigurationError(`BLOB_REDIRECT_SECONDS must be at most ${MAX_PRESIGN_SECONDS} (7 days, S3's limit)`);
  return {
    accessKeyId,
    secretAccessKey,
    bucketUrl: bucketUrl.replace(/\/+$/, ""),
    region: text("R2_S3_REGION") ?? DEFAULTS.r2Region,
    seconds,
  };
}
