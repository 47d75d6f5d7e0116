/**
 * Which repositories are pull-through caches, and how to reach their upstream.
 *
 * The rules (at most 50) are read from D1 once per isolate and kept for RULES_TTL_MS, so a
 * blob or manifest miss, or a push, costs no extra query to learn whether its name is a
 * cache. A rule changed through this isolate takes effect at once; other isolates see it
 * within RULES_TTL_MS. Upstream credentials are unsealed from the rule's secret on use and
 * kept as briefly.
 */
import type { AppContext } from "../app-env";
import { authConfig } from "../auth/config";
import { BoundedMap } from "../bounded-map";
import { openSecret } from "../auth/sealed-secrets";
import { OciError, RegistryError, type ErrorDescriptor } from "../errors";
import {
  findRegistrySecret,
  listAllPullThroughRules,
  recordUpstreamContact,
  type PullThroughRule,
  type UpstreamContact,
} from "../storage/pull-through-records";
import { readRateLimit } from "./upstream-headers";
import { UpstreamFailure, type Upstream, type UpstreamCredentials } from "./upstream-client";
import { matchRule, upstreamBaseUrl, type CacheTarget } from "./rules";

const RULES_TTL_MS = 30_000;
const CREDENTIALS_TTL_MS = 30_000;

export type RuleTarget = CacheTarget<PullThroughRule>;

let rules: { loaded: Promise<PullThroughRule[]>; until: number } | null = null;
/** Unsealed credentials by secret ARN (rules name at most 50; the bound is a safety net). */
const credentials = new BoundedMap<string, Promise<UpstreamCredentials>>(100, CREDENTIALS_TTL_MS);

/** Called when this isolate changes a rule or a secret, so the change applies at once. */
export function forgetRules(): void {
  rules = null;
  credentials.clear();
}

async function currentRules(c: AppContext): Promise<PullThroughRule[]> {
  const now = Date.now();
  if (rules === null || rules.until <= now) {
    const loaded = listAllPullThroughRules(c.get("db"));
    rules = { loaded, until: now + RULES_TTL_MS };
    loaded.catch(() => {
      rules = null;
    });
  }
  return rules.loaded;
}

/** The rule serving repository `name`, or null when it is an ordinary repository. */
export async function cacheTargetFor(c: AppContext, name: string): Promise<RuleTarget | null> {
  return matchRule(await currentRules(c), name);
}

async function unsealCredentials(c: AppContext, arn: string): Promise<UpstreamCredentials> {
  const config = await authConfig(c.var.settings.auth);
  const name = arn.slice(arn.indexOf(":secret:") + ":secret:".length);
  const sealed = await findRegistrySecret(c.get("db"), name);
  if (sealed === undefined || config.secretsKey === null) {
    throw new UpstreamFailure(
      "denied",
      0,
      `the credentials ${arn} of this pull-through rule are missing or cannot be unsealed`,
    );
  }
  const text = await openSecret(config.secretsKey, name, sealed);
  let parsed: unknown = null;
  try {
    parsed = text === null ? null : JSON.parse(text);
  } catch {
    // Not what PUT /admin/secrets stores: reported below.
  }
  const fields = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  if (typeof fields.username !== "string" || typeof fields.accessToken !== "string") {
    throw new UpstreamFailure("denied", 0, `the secret ${arn} does not hold {username, accessToken}`);
  }
  return { username: fields.username, accessToken: fields.accessToken };
}

/** The upstream repository of a target, with the rule's credentials (if any). */
export async function upstreamOf(c: AppContext, target: RuleTarget): Promise<Upstream> {
  let loaded: UpstreamCredentials | null = null;
  const arn = target.rule.credentialArn;
  if (arn !== null) {
    let entry = credentials.get(arn);
    if (entry === undefined) {
      const unsealing = unsealCredentials(c, arn);
      credentials.set(arn, unsealing);
      unsealing.catch(() => {
        if (credentials.get(arn) === unsealing) credentials.delete(arn);
      });
      entry = unsealing;
    }
    loaded = await entry;
  }
  return {
    baseUrl: upstreamBaseUrl(target.rule.upstreamRegistryUrl),
    repository: target.upstreamRepository,
    credentials: loaded,
  };
}

/** Records what the upstream answered (rate-limit headers, failures), after the response is sent. */
export function noteUpstream(
  c: AppContext,
  target: RuleTarget,
  kind: UpstreamContact["kind"],
  outcome: { response: Response } | { failure: UpstreamFailure },
): void {
  const contact: UpstreamContact =
    "response" in outcome
      ? {
          prefix: target.rule.prefix,
          at: Date.now(),
          status: outcome.response.status,
          kind,
          rateLimit: readRateLimit(outcome.response.headers),
          error:
            outcome.response.status >= 400 && outcome.response.status !== 404
              ? `${kind} request answered ${outcome.response.status}`
              : null,
        }
      : {
          prefix: target.rule.prefix,
          at: Date.now(),
          status: outcome.failure.status,
          kind,
          rateLimit: null,
          error: outcome.failure.message,
        };
  c.executionCtx.waitUntil(
    recordUpstreamContact(c.get("db"), contact).catch((error: unknown) =>
      console.error("recording an upstream contact failed", error),
    ),
  );
}

/**
 * The error a client gets when the upstream failed and nothing is cached: the upstream's own
 * condition where there is one (429, 404), otherwise 502.
 */
export function clientErrorFor(failure: UpstreamFailure, notFound: RegistryError): RegistryError {
  switch (failure.kind) {
    case "not-found":
      return failure.upstreamCode === "NAME_UNKNOWN"
        ? new RegistryError(OciError.NAME_UNKNOWN, failure.message)
        : notFound;
    case "rate-limited":
      return new RegistryError(OciError.TOOMANYREQUESTS, `${failure.message}; nothing is cached for this request yet`);
    case "denied":
    case "unavailable":
    case "invalid":
      return new RegistryError(OciError.UPSTREAM_UNAVAILABLE, failure.message);
  }
}

/**
 * Refuses a push (an upload or a manifest) into a pull-through cache repository: its
 * content comes from the upstream only, so what clients pull is what the upstream serves.
 */
export async function refusePushIntoCache(c: AppContext, name: string, descriptor: ErrorDescriptor): Promise<void> {
  const target = await cacheTargetFor(c, name);
  if (target === null) return;
  throw new RegistryError(
    descriptor,
    `repository ${name} is a pull-through cache of ${target.rule.upstreamRegistryUrl} (rule ${target.rule.prefix}): its content comes from the upstream, pushes are refused`,
    descriptor.format === "oci" ? { repository: name, rule: target.rule.prefix } : undefined,
  );
}
