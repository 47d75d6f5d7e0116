/**
 * D1 schema (drizzle). `npm run db:generate` writes the SQL migrations in `migrations/`.
 * JSON columns are declared `mode: "json"` with their type: drizzle writes them with
 * JSON.stringify and reads them with JSON.parse (the stored text is what it always was), so
 * callers get typed values. Raw SQL (json_each, json_group_array) still reads the same text.
 *
 * Every table is keyed by repository name first, so each pull-path lookup is a primary-key
 * probe: blob GET/HEAD reads one `repository_blobs` row, manifest GET by digest one
 * `manifests` row, manifest GET by tag one `tags` row joined to its manifest.
 * Times are Unix epoch milliseconds.
 */
import { sql } from "drizzle-orm";
import { foreignKey, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const TAG_MUTABILITY = ["MUTABLE", "IMMUTABLE", "MUTABLE_WITH_EXCLUSION", "IMMUTABLE_WITH_EXCLUSION"] as const;
export type TagMutability = (typeof TAG_MUTABILITY)[number];
export const ENCRYPTION_TYPES = ["AES256", "KMS", "KMS_DSSE"] as const;
export type EncryptionType = (typeof ENCRYPTION_TYPES)[number];

export const repositories = sqliteTable("repositories", {
  name: text("name").primaryKey(),
  imageTagMutability: text("image_tag_mutability", { enum: TAG_MUTABILITY }).notNull().default("MUTABLE"),
  /**
   * ECR's imageTagMutabilityExclusionFilters for the _WITH_EXCLUSION settings, as a JSON array
   * of `{"filterType":"WILDCARD","filter":"..."}` (src/repository/tag-mutability.ts); `[]` otherwise.
   */
  imageTagMutabilityExclusionFilters: text("image_tag_mutability_exclusion_filters").notNull().default("[]"),
  createdAt: integer("created_at").notNull(),
  /** The repository policy document (JSON text as set), or null. */
  policy: text("policy"),
  /** Resource tags as a JSON object of strings (for `ecr:ResourceTag/<key>` conditions). */
  tags: text("tags", { mode: "json" }).$type<Record<string, string>>().notNull().default({}),
  scanOnPush: integer("scan_on_push", { mode: "boolean" }).notNull().default(false),
  /** ECR's encryptionConfiguration, accepted and reported (R2 encrypts everything at rest). */
  encryptionType: text("encryption_type", { enum: ENCRYPTION_TYPES }).notNull().default("AES256"),
  kmsKey: text("kms_key"),
  /** The lifecycle policy document (JSON text as put), or null. */
  lifecyclePolicy: text("lifecycle_policy"),
  lifecycleEvaluatedAt: integer("lifecycle_evaluated_at"),
});

/** The last lifecycle policy preview of each repository (ECR keeps one per repository). */
export const lifecyclePreviews = sqliteTable("lifecycle_previews", {
  repository: text("repository")
    .primaryKey()
    .references(() => repositories.name, { onDelete: "cascade" }),
  status: text("status", { enum: ["IN_PROGRESS", "COMPLETE", "FAILED"] }).notNull(),
  policyText: text("policy_text").notNull(),
  /** JSON array of the evaluator's decisions, when COMPLETE. */
  results: text("results"),
  startedAt: integer("started_at").notNull(),
});

/** Who did what to which image, when: lifecycle expiries and garbage collection. */
/**
 * The audit trail, one row per record in CloudTrail's shape (src/audit/): API calls (ECR API,
 * `/v2` writes, admin calls, refused authentication and authorization), pulls aggregated per
 * principal, repository, action and minute, and the jobs' own actions (lifecycle expiry,
 * garbage collection, pull-through imports).
 */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** eventTime (epoch ms); for an aggregate, its first call. */
    at: integer("at").notNull(),
    /** userIdentity.arn: a principal ARN, or a job such as `lifecycle-policy`. */
    actor: text("actor").notNull(),
    /** eventName: the ECR action (`PutImage`), an admin action (`iam:CreateUser`) or a job's. */
    action: text("action").notNull(),
    repository: text("repository"),
    digest: text("digest"),
    /** additionalEventData: JSON object with what else is worth keeping (counts, the rule, bytes). */
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    /** CloudTrail's eventID (a UUID). */
    eventId: text("event_id"),
    /** The request's id (the `x-amzn-RequestId` it was answered with); null for jobs and aggregates. */
    requestId: text("request_id"),
    /** eventSource: `ecr.amazonaws.com`, `registry-admin`, `registry-token`, `registry-jobs`. */
    source: text("source"),
    /** userIdentity.type: IAMUser, Root, AWSAccount, Anonymous, Unknown, AWSService. */
    identityType: text("identity_type"),
    accessKeyId: text("access_key_id"),
    sourceIp: text("source_ip"),
    userAgent: text("user_agent"),
    /** Null when the call succeeded. */
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    /** requestParameters (JSON object), secrets replaced before they are stored. */
    requestParameters: text("request_parameters", { mode: "json" }).$type<Record<string, unknown>>(),
    readOnly: integer("read_only", { mode: "boolean" }),
    /** How many calls the row stands for (1, or more for an aggregate of pulls). */
    calls: integer("calls").notNull().default(1),
  },
  (t) => [
    index("audit_events_repository").on(t.repository, t.at),
    index("audit_events_at").on(t.at),
    index("audit_events_actor").on(t.actor, t.at),
    index("audit_events_action").on(t.action, t.at),
  ],
);

/** Registry-wide settings (the registry policy, ...) as JSON text by key. */
export const registrySettings = sqliteTable("registry_settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** IAM-style users; the bootstrap admin comes from configuration and is not stored here. */
export const users = sqliteTable("users", {
  name: text("name").primaryKey(),
  /** Unique per user ever created: tokens carry it, so a recreated name is a new identity. */
  id: text("id").notNull().unique(),
  createdAt: integer("created_at").notNull(),
});

/** Inline identity policies attached to users (like IAM's PutUserPolicy). */
export const userPolicies = sqliteTable(
  "user_policies",
  {
    user: text("user")
      .notNull()
      .references(() => users.name, { onDelete: "cascade" }),
    name: text("name").notNull(),
    document: text("document").notNull(),
  },
  (t) => [primaryKey({ columns: [t.user, t.name] })],
);

/** Access keys; the secret is kept only as a salted slow hash (src/auth/secrets.ts). */
export const accessKeys = sqliteTable(
  "access_keys",
  {
    id: text("id").primaryKey(),
    user: text("user")
      .notNull()
      .references(() => users.name, { onDelete: "cascade" }),
    secretHash: text("secret_hash").notNull(),
    /**
     * The secret sealed with REGISTRY_SECRETS_KEY (AES-GCM, src/auth/sealed-secrets.ts): SigV4
     * needs the secret itself to check a signature. Null for keys made without that key.
     */
    secretSealed: text("secret_sealed"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("access_keys_user").on(t.user)],
);

/** Which digests a repository may serve, and the R2 object holding their bytes. */
export const repositoryBlobs = sqliteTable(
  "repository_blobs",
  {
    repository: text("repository")
      .notNull()
      .references(() => repositories.name, { onDelete: "cascade" }),
    digest: text("digest").notNull(),
    size: integer("size").notNull(),
    objectKey: text("object_key").notNull(),
    linkedAt: integer("linked_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.repository, t.digest] }),
    index("repository_blobs_digest").on(t.digest),
    index("repository_blobs_object_key").on(t.objectKey),
  ],
);

/**
 * Garbage collection's marks on R2 objects no link references (src/gc/collect.ts explains the
 * protocol): `marked` when first seen unlinked, `claimed` while being deleted, `deleted`
 * afterwards (kept a day as a tombstone that link writes check).
 */
export const gcObjects = sqliteTable("gc_objects", {
  objectKey: text("object_key").primaryKey(),
  state: text("state", { enum: ["marked", "claimed", "deleted"] }).notNull(),
  markedAt: integer("marked_at").notNull(),
  changedAt: integer("changed_at").notNull(),
  size: integer("size").notNull(),
});

export const manifests = sqliteTable(
  "manifests",
  {
    repository: text("repository")
      .notNull()
      .references(() => repositories.name, { onDelete: "cascade" }),
    digest: text("digest").notNull(),
    mediaType: text("media_type").notNull(),
    size: integer("size").notNull(),
    /** The exact bytes pushed, when small enough for a D1 row; otherwise null and in R2. */
    body: text("body"),
    /** artifactType, else config.mediaType for image manifests (what referrers report). */
    artifactType: text("artifact_type"),
    subject: text("subject"),
    /** JSON object of the manifest's annotations, or null. */
    annotations: text("annotations"),
    /** JSON array of the blob digests (config and layers) the manifest references. */
    blobDigests: text("blob_digests", { mode: "json" }).$type<string[]>().notNull().default([]),
    /** JSON array of the manifest digests an index references. */
    childDigests: text("child_digests", { mode: "json" }).$type<string[]>().notNull().default([]),
    pushedAt: integer("pushed_at").notNull(),
    /** Config plus layer sizes of an image manifest (ECR's imageSizeInBytes); null for an index. */
    imageSize: integer("image_size"),
    /** Pulls are recorded in batches (src/images/pull-records.ts), not on every pull. */
    lastPulledAt: integer("last_pulled_at"),
    pullCount: integer("pull_count").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.repository, t.digest] }),
    index("manifests_subject").on(t.repository, t.subject),
    // Only indexes: "which indexes list this digest" reads these rows, not every manifest.
    index("manifests_indexes")
      .on(t.repository)
      .where(sql`${t.childDigests} != '[]'`),
  ],
);

export const tags = sqliteTable(
  "tags",
  {
    repository: text("repository").notNull(),
    tag: text("tag").notNull(),
    digest: text("digest").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /**
     * When a pull-through cache last confirmed this tag against its upstream (src/pull-through/);
     * null for tags pushed here, which are never revalidated.
     */
    validatedAt: integer("validated_at"),
  },
  (t) => [
    primaryKey({ columns: [t.repository, t.tag] }),
    index("tags_digest").on(t.repository, t.digest),
    // Deleting a manifest deletes every tag on it, in the same statement.
    foreignKey({
      columns: [t.repository, t.digest],
      foreignColumns: [manifests.repository, manifests.digest],
    }).onDelete("cascade"),
  ],
);

export type RepositoryRow = typeof repositories.$inferSelect;
export type ManifestRow = typeof manifests.$inferSelect;
export type BlobLinkRow = typeof repositoryBlobs.$inferSelect;

/**
 * Secrets the registry keeps for itself, in the shape of AWS Secrets Manager's: pull-through
 * cache credentials (`ecr-pullthroughcache/<name>`). The value is sealed with
 * REGISTRY_SECRETS_KEY (src/auth/sealed-secrets.ts) and never returned by any API.
 */
export const registrySecrets = sqliteTable("registry_secrets", {
  name: text("name").primaryKey(),
  sealed: text("sealed").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** ECR pull-through cache rules: repositories under `prefix` mirror the upstream registry. */
export const pullThroughCacheRules = sqliteTable("pull_through_cache_rules", {
  prefix: text("prefix").primaryKey(),
  upstreamRegistryUrl: text("upstream_registry_url").notNull(),
  upstreamRegistry: text("upstream_registry").notNull(),
  upstreamRepositoryPrefix: text("upstream_repository_prefix"),
  /** The secret holding `{username, accessToken}` for the upstream, or null (anonymous). */
  credentialArn: text("credential_arn"),
  customRoleArn: text("custom_role_arn"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * What each pull-through rule's upstream last said: the rate-limit headers of its latest
 * manifest response (Docker Hub's `ratelimit-limit`, `ratelimit-remaining`,
 * `docker-ratelimit-source`), its latest failure, and how many requests the cache made.
 */
export const pullThroughUpstreamStatus = sqliteTable("pull_through_upstream_status", {
  prefix: text("prefix").primaryKey(),
  lastContactAt: integer("last_contact_at").notNull(),
  /** HTTP status of the latest upstream answer; 0 when it could not be reached. */
  lastStatus: integer("last_status").notNull(),
  rateLimitLimit: text("rate_limit_limit"),
  rateLimitRemaining: text("rate_limit_remaining"),
  rateLimitSource: text("rate_limit_source"),
  rateLimitedAt: integer("rate_limited_at"),
  lastError: text("last_error"),
  lastErrorAt: integer("last_error_at"),
  manifestRequests: integer("manifest_requests").notNull().default(0),
  blobRequests: integer("blob_requests").notNull().default(0),
});

/**
 * Replication work (src/replication/): one row per pushed image and destination, written by the
 * repository's Durable Object in the same batch as the manifest, so no push is missed. No
 * foreign key to the manifest: deleting the source image never deletes what was replicated,
 * and a row whose image is gone before it is copied fails with a code saying so.
 */
export const replicationItems = sqliteTable(
  "replication_items",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    repository: text("repository").notNull(),
    digest: text("digest").notNull(),
    /** The tag the image was pushed with, or null for a push by digest. */
    tag: text("tag"),
    registryId: text("registry_id").notNull(),
    region: text("region").notNull(),
    /** ECR's ReplicationStatus: IN_PROGRESS, COMPLETE or FAILED. */
    status: text("status").$type<"IN_PROGRESS" | "COMPLETE" | "FAILED">().notNull(),
    failureCode: text("failure_code"),
    attempts: integer("attempts").notNull().default(0),
    /** When the cron may next try it (backoff after a failed attempt). */
    nextAttemptAt: integer("next_attempt_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("replication_items_image").on(t.repository, t.digest),
    index("replication_items_due")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'IN_PROGRESS'`),
  ],
);

/**
 * Repository creation templates (ECR's CreateRepositoryCreationTemplate): the settings a
 * repository gets when replication, a pull-through cache or a push creates it. `prefix` is a
 * repository name prefix or `ROOT` (every repository); the longest matching prefix applies.
 */
export const repositoryCreationTemplates = sqliteTable("repository_creation_templates", {
  prefix: text("prefix").primaryKey(),
  description: text("description"),
  /** JSON array of REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH. */
  appliedFor: text("applied_for", { mode: "json" }).$type<string[]>().notNull(),
  imageTagMutability: text("image_tag_mutability", { enum: TAG_MUTABILITY }).notNull().default("MUTABLE"),
  imageTagMutabilityExclusionFilters: text("image_tag_mutability_exclusion_filters").notNull().default("[]"),
  repositoryPolicy: text("repository_policy"),
  lifecyclePolicy: text("lifecycle_policy"),
  resourceTags: text("resource_tags", { mode: "json" }).$type<Record<string, string>>().notNull().default({}),
  encryptionType: text("encryption_type", { enum: ENCRYPTION_TYPES }).notNull().default("AES256"),
  kmsKey: text("kms_key"),
  customRoleArn: text("custom_role_arn"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export type RepositoryCreationTemplateRow = typeof repositoryCreationTemplates.$inferSelect;

/**
 * Vulnerability advisories in the OSV format (src/scanning/advisories/): the record as
 * imported, by id. A newer `modified` replaces an older record; an older one is ignored.
 */
export const advisories = sqliteTable("advisories", {
  id: text("id").primaryKey(),
  /** The record's `modified` (RFC 3339), compared as text: OSV writes it in UTC with a Z. */
  modified: text("modified").notNull(),
  /** The OSV JSON document. */
  document: text("document").notNull(),
  importedAt: integer("imported_at").notNull(),
});

/** The packages each advisory names, for a scan's lookup by package. */
export const advisoryPackages = sqliteTable(
  "advisory_packages",
  {
    advisoryId: text("advisory_id")
      .notNull()
      .references(() => advisories.id, { onDelete: "cascade" }),
    /** The ecosystem's family, before any `:release` (`Debian`, `Alpine`, `npm`, ...). */
    ecosystem: text("ecosystem").notNull(),
    /** The package name as the matcher compares it (PyPI names normalized). */
    name: text("name").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.advisoryId, t.ecosystem, t.name] }),
    index("advisory_packages_name").on(t.ecosystem, t.name),
  ],
);

export const SCAN_STATUSES = ["IN_PROGRESS", "COMPLETE", "FAILED", "UNSUPPORTED_IMAGE"] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

/** An image's basic scan (ECR's imageScanStatus, findings summary and the inventory it read). */
export const imageScans = sqliteTable(
  "image_scans",
  {
    repository: text("repository").notNull(),
    digest: text("digest").notNull(),
    status: text("status", { enum: SCAN_STATUSES }).notNull(),
    description: text("description"),
    startedAt: integer("started_at").notNull(),
    completedAt: integer("completed_at"),
    /** When the advisories the findings come from last changed (epoch ms). */
    sourceUpdatedAt: integer("source_updated_at"),
    /** The image's packages and OS as read from its layers (JSON), kept for continuous scanning. */
    inventory: text("inventory"),
    /** Findings per severity, as ECR's findingSeverityCounts (JSON object). */
    severityCounts: text("severity_counts", { mode: "json" }).$type<Record<string, number>>(),
  },
  (t) => [
    primaryKey({ columns: [t.repository, t.digest] }),
    foreignKey({
      columns: [t.repository, t.digest],
      foreignColumns: [manifests.repository, manifests.digest],
    }).onDelete("cascade"),
  ],
);

/** A scan's findings: one row per (advisory, package) the image is affected by. */
export const scanFindings = sqliteTable(
  "scan_findings",
  {
    repository: text("repository").notNull(),
    digest: text("digest").notNull(),
    advisoryId: text("advisory_id").notNull(),
    packageName: text("package_name").notNull(),
    packageVersion: text("package_version").notNull(),
    fixedVersion: text("fixed_version"),
    severity: text("severity").notNull(),
    /** Severity rank, for ordering (CRITICAL first). */
    severityRank: integer("severity_rank").notNull(),
    description: text("description"),
    uri: text("uri"),
    /** Further attributes (JSON array of {key, value}). */
    attributes: text("attributes").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.repository, t.digest, t.advisoryId, t.packageName, t.packageVersion] }),
    foreignKey({
      columns: [t.repository, t.digest],
      foreignColumns: [imageScans.repository, imageScans.digest],
    }).onDelete("cascade"),
  ],
);

/**
 * What one layer holds for scanning, by the layer's digest (content-addressed, so a base layer
 * shared by many images is read once): the package files found and the whiteouts (JSON).
 */
export const layerInventories = sqliteTable("layer_inventories", {
  digest: text("digest").primaryKey(),
  content: text("content").notNull(),
  readAt: integer("read_at").notNull(),
});

/** ECR Public's catalog data of a repository (PutRepositoryCatalogData), shown by the gallery. */
export const repositoryCatalogData = sqliteTable("repository_catalog_data", {
  repository: text("repository")
    .primaryKey()
    .references(() => repositories.name, { onDelete: "cascade" }),
  /** JSON: description, aboutText, usageText, architectures, operatingSystems, logoImageBlob (base64). */
  data: text("data").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

// The events outbox, subscriptions and deliveries, and console sessions: ./schema-events.ts.
export * from "./schema-events";
