/**
 * Webhook subscriptions and their delivery log through the admin API:
 *   PUT    /admin/event-subscriptions/<name>   {"endpoint", "pattern", "enabled"?, "secret"?}
 *   GET    /admin/event-subscriptions[/<name>]
 *   DELETE /admin/event-subscriptions/<name>   (its delivery log goes with it)
 *   GET    /admin/event-deliveries?subscription&status&maxResults&nextToken
 *   GET    /admin/event-deliveries/<id>        (with the event as delivered)
 *   POST   /admin/event-deliveries/<id>/replay (a delivery that ended, sent again)
 *   GET    /admin/events?detailType&repository&maxResults&nextToken (the events recorded, newest first)
 * The endpoint is https (http only for a loopback address); the pattern an EventBridge event
 * pattern (src/events/pattern.ts); the secret a Standard Webhooks secret (`whsec_` + base64),
 * generated when none is given and returned only then; it is sealed with REGISTRY_SECRETS_KEY.
 */
import { Hono } from "hono";
import type { AppContext, AppEnv } from "../app-env";
import { noteAudit } from "../audit/capture";
import { REDACTED } from "../audit/record";
import { authConfig } from "../auth/config";
import { sealSecret } from "../auth/sealed-secrets";
import { subscriptionSecretContext } from "../events/delivery";
import { sendDeliveries } from "../events/fan-out";
import { parseEventPattern } from "../events/pattern";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../storage/schema";
import {
  deleteSubscription,
  findDelivery,
  findEventBody,
  findSubscription,
  listDeliveries,
  listEvents,
  listSubscriptions,
  putSubscription,
  replayDelivery,
  type DeliveryRecord,
  type SubscriptionRecord,
} from "../storage/event-records";
import { requireIdentityAction } from "./authorize";
import { adminError, readJsonInput, requireOutboundUrl } from "./input";
import { isoOrNull, iso } from "./present";

export const eventRoutes = new Hono<AppEnv>();

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const MAX_PAGE = 1000;

function requireName(name: string): string {
  if (!NAME.test(name)) throw adminError.invalid("a subscription name is 1 to 64 letters, digits, '.', '_' or '-'");
  return name;
}

function requireEndpoint(text: string): string {
  const url = requireOutboundUrl(text);
  if (url.hash !== "") throw adminError.invalid("endpoint must not carry a fragment");
  return url.href;
}

/** A Standard Webhooks secret: 24 to 64 random bytes after `whsec_`. */
function requireSecret(secret: string): string {
  let bytes: number;
  try {
    bytes = SECRET.test(secret) ? atob(secret.slice("whsec_".length)).length : 0;
  } catch {
    bytes = 0;
  }
  if (bytes < 24 || bytes > 64) throw adminError.invalid("secret must be whsec_ and 24 to 64 bytes in base64");
  return secret;
}

function newSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
}

function presentSubscription(subscription: SubscriptionRecord) {
  return {
    name: subscription.name,
    endpoint: subscription.endpoint,
    pattern: JSON.parse(subscription.pattern) as unknown,
    enabled: subscription.enabled,
    createdAt: iso(subscription.createdAt),
    updatedAt: iso(subscription.updatedAt),
  };
}

function presentDelivery(delivery: DeliveryRecord) {
  return {
    ...delivery,
    nextAttemptAt: delivery.status === "PENDING" ? isoOrNull(delivery.nextAttemptAt) : null,
    lastAttemptAt: isoOrNull(delivery.lastAttemptAt),
    deliveredAt: isoOrNull(delivery.deliveredAt),
    createdAt: iso(delivery.createdAt),
  };
}

async function secretsKeyOf(c: AppContext): Promise<CryptoKey> {
  const { secretsKey } = await authConfig(c.var.settings.auth);
  if (secretsKey === null)
    throw adminError.invalid("REGISTRY_SECRETS_KEY is not configured: a signing secret cannot be stored");
  return secretsKey;
}

eventRoutes.put("/event-subscriptions/:name", async (c) => {
  const name = requireName(c.req.param("name"));
  await requireIdentityAction(c, "registry:PutEventSubscription", null);
  const input = await readJsonInput(c);
  const endpoint = requireEndpoint(input.string("endpoint", { min: 1, max: 2048 }));
  // A webhook URL's path and query often hold its own token (chat webhooks): the audit trail
  // keeps only its origin.
  noteAudit(c, {
    requestParameters: {
      ...c.var.audit.requestParameters,
      body: { ...input.members(), endpoint: `${new URL(endpoint).origin}/${REDACTED}` },
    },
  });
  const pattern = parseEventPattern(input.members().pattern);
  if (!pattern.ok) throw adminError.invalid(`pattern: ${pattern.message}`);
  const enabled = input.optionalBoolean("enabled") ?? true;
  const given = input.optionalString("secret", { min: 1, max: 200 });
  const key = await secretsKeyOf(c);
  const db = c.get("db");
  const existing = await findSubscription(db, name);
  // A new subscription without a secret gets one (returned once); an update keeps its own.
  const secret = given === undefined ? (existing === null ? newSecret() : null) : requireSecret(given);
  const now = Date.now();
  const record: SubscriptionRecord = {
    name,
    endpoint,
    pattern: JSON.stringify(input.members().pattern),
    secretSealed:
      secret === null && existing !== null
        ? existing.secretSealed
        : await sealSecret(key, subscriptionSecretContext(name), secret ?? ""),
    enabled,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  await putSubscription(db, record);
  const generated = given === undefined && existing === null ? { secret } : {};
  return c.json({ ...presentSubscription(record), ...generated }, existing === null ? 201 : 200);
});

eventRoutes.get("/event-subscriptions", async (c) => {
  await requireIdentityAction(c, "registry:DescribeEventSubscriptions", null);
  return c.json({ subscriptions: (await listSubscriptions(c.get("db"))).map(presentSubscription) });
});

eventRoutes.get("/event-subscriptions/:name", async (c) => {
  const name = requireName(c.req.param("name"));
  await requireIdentityAction(c, "registry:DescribeEventSubscriptions", null);
  const found = await findSubscription(c.get("db"), name);
  if (found === null) throw adminError.notFound(`no event subscription named ${name}`);
  return c.json(presentSubscription(found));
});

eventRoutes.delete("/event-subscriptions/:name", async (c) => {
  const name = requireName(c.req.param("name"));
  await requireIdentityAction(c, "registry:DeleteEventSubscription", null);
  if (!(await deleteSubscription(c.get("db"), name))) throw adminError.notFound(`no event subscription named ${name}`);
  return c.body(null, 204);
});

function deliveryId(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text)) throw adminError.invalid("a delivery id is a positive whole number");
  return Number(text);
}

function pageSize(text: string | undefined, fallback: number): number {
  const size = text === undefined ? fallback : Number(text);
  if (!(Number.isInteger(size) && size >= 1 && size <= MAX_PAGE))
    throw adminError.invalid(`maxResults must be a whole number from 1 to ${MAX_PAGE}`);
  return size;
}

eventRoutes.get("/events", async (c) => {
  await requireIdentityAction(c, "registry:DescribeEvents", null);
  const query = c.req.query();
  const maxResults = pageSize(query.maxResults, 100);
  for (const name of ["detailType", "repository"] as const)
    if ((query[name]?.length ?? 0) > 256) throw adminError.invalid(`${name} is longer than 256 characters`);
  const rows = await listEvents(c.get("db"), {
    ...(query.detailType === undefined ? {} : { detailType: query.detailType }),
    ...(query.repository === undefined ? {} : { repository: query.repository }),
    ...(query.nextToken === undefined ? {} : { beforeId: deliveryId(query.nextToken) }),
    limit: maxResults + 1,
  });
  const page = rows.slice(0, maxResults);
  const last = page.at(-1);
  return c.json({
    events: page.map((row) => JSON.parse(row.body) as unknown),
    ...(rows.length > maxResults && last !== undefined ? { nextToken: String(last.id) } : {}),
  });
});

eventRoutes.get("/event-deliveries", async (c) => {
  await requireIdentityAction(c, "registry:DescribeEventDeliveries", null);
  const query = c.req.query();
  const maxResults = pageSize(query.maxResults, 100);
  const status = query.status;
  if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status))
    throw adminError.invalid(`status must be one of ${DELIVERY_STATUSES.join(", ")}`);
  if (query.subscription !== undefined) requireName(query.subscription);
  const rows = await listDeliveries(c.get("db"), {
    ...(query.subscription === undefined ? {} : { subscription: query.subscription }),
    ...(status === undefined ? {} : { status: status as DeliveryStatus }),
    ...(query.nextToken === undefined ? {} : { beforeId: deliveryId(query.nextToken) }),
    limit: maxResults + 1,
  });
  const page = rows.slice(0, maxResults);
  const last = page.at(-1);
  return c.json({
    deliveries: page.map(presentDelivery),
    ...(rows.length > maxResults && last !== undefined ? { nextToken: String(last.id) } : {}),
  });
});

eventRoutes.get("/event-deliveries/:id", async (c) => {
  const id = deliveryId(c.req.param("id"));
  await requireIdentityAction(c, "registry:DescribeEventDeliveries", null);
  const db = c.get("db");
  const delivery = await findDelivery(db, id);
  if (delivery === null) throw adminError.notFound(`no delivery ${id}`);
  const body = await findEventBody(db, delivery.eventId);
  return c.json({ ...presentDelivery(delivery), event: body === null ? null : (JSON.parse(body) as unknown) });
});

eventRoutes.post("/event-deliveries/:id/replay", async (c) => {
  const id = deliveryId(c.req.param("id"));
  await requireIdentityAction(c, "registry:ReplayEventDelivery", null);
  const db = c.get("db");
  const replayed = await replayDelivery(db, id, Date.now());
  if (replayed === null) {
    if ((await findDelivery(db, id)) === null) throw adminError.notFound(`no delivery ${id}`);
    throw adminError.conflict(`delivery ${id} is still pending`);
  }
  await sendDeliveries(c.env, [id]);
  return c.json(presentDelivery(replayed), 202);
});
