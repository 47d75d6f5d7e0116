/**
 * The D1 tables of registry events (the outbox, webhook subscriptions, the delivery log) and of
 * web console sessions, beside the core schema (./schema.ts re-exports them, so drizzle and the
 * migrations see one schema). None references a table of ./schema.ts.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The events outbox: each registry event in EventBridge's envelope, inserted in the same D1
 * write as the change it reports (src/events/), then fanned out to the subscriptions whose
 * pattern it matches.
 */
export const registryEvents = sqliteTable(
  "registry_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The envelope's `id` (a UUID): the idempotency key receivers get as `webhook-id`. */
    eventId: text("event_id").notNull().unique(),
    at: integer("at").notNull(),
    detailType: text("detail_type").notNull(),
    repository: text("repository"),
    /** The whole envelope, as delivered (JSON text). */
    body: text("body").notNull(),
    /** Set once the event's deliveries are recorded (the fan-out). */
    dispatchedAt: integer("dispatched_at"),
  },
  (t) => [index("registry_events_pending").on(t.dispatchedAt, t.id)],
);

/** Webhook subscriptions: an endpoint, an EventBridge pattern and a signing secret (sealed). */
export const eventSubscriptions = sqliteTable("event_subscriptions", {
  name: text("name").primaryKey(),
  endpoint: text("endpoint").notNull(),
  /** The EventBridge pattern, JSON text as given. */
  pattern: text("pattern").notNull(),
  /** The Standard Webhooks secret, sealed with REGISTRY_SECRETS_KEY (src/auth/sealed-secrets.ts). */
  secretSealed: text("secret_sealed").notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const DELIVERY_STATUSES = ["PENDING", "DELIVERED", "FAILED"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The delivery log: one row per (event, subscription), kept through retries and replays. */
export const eventDeliveries = sqliteTable(
  "event_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    eventId: integer("event_id")
      .notNull()
      .references(() => registryEvents.id, { onDelete: "cascade" }),
    subscription: text("subscription")
      .notNull()
      .references(() => eventSubscriptions.name, { onDelete: "cascade" }),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** No other attempt starts before this (epoch ms): an attempt's lease, or the retry's wait. */
    leaseUntil: integer("lease_until"),
    lastAttemptAt: integer("last_attempt_at"),
    /** The endpoint's HTTP status on the last attempt (null when it could not be reached). */
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    deliveredAt: integer("delivered_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("event_deliveries_event_subscription").on(t.eventId, t.subscription),
    index("event_deliveries_status").on(t.status, t.leaseUntil),
    index("event_deliveries_subscription").on(t.subscription, t.id),
  ],
);

/**
 * Web console sessions (src/console/): the cookie holds a random id, D1 only its SHA-256, so a
 * leaked table opens no session. Short-lived; signing out deletes the row (revocation).
 */
export const consoleSessions = sqliteTable(
  "console_sessions",
  {
    idHash: text("id_hash").primaryKey(),
    /** The signed-in user (the bootstrap admin's name for the admin key). */
    username: text("username").notNull(),
    accessKeyId: text("access_key_id").notNull(),
    /** The token every form of this session carries (CSRF). */
    csrfToken: text("csrf_token").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("console_sessions_user").on(t.username)],
);
