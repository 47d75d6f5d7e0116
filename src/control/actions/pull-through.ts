/**
 * Pull-through cache rules: Create, Describe, Update and DeletePullThroughCacheRule. A rule maps
 * the repository prefix `ecrRepositoryPrefix` to an upstream registry. Credentials for the
 * upstream are named by `credentialArn`, a secret of this registry
 * (`arn:aws:secretsmanager:<region>:<account>:secret:ecr-pullthroughcache/<name>`, stored with
 * `PUT /admin/secrets/ecr-pullthroughcache/<name>`), and are never returned.
 * ValidatePullThroughCacheRule asks the upstream for a token with those credentials. Pulls
 * through the rules are served by src/pull-through/.
 */
import { EcrError, RegistryError } from "../../errors";
import {
  deletePullThroughRule,
  findPullThroughRules,
  findRegistrySecret,
  insertPullThroughRule,
  listPullThroughRules,
  updatePullThroughRule,
  type PullThroughRule,
} from "../../storage/pull-through-records";
import { checkUpstream } from "../../pull-through/upstream-client";
import { SECRET_PREFIX, UPSTREAM_REGISTRIES, upstreamBaseUrl, upstreamRegistryOf } from "../../pull-through/rules";
import { forgetRules, upstreamOf } from "../../pull-through/targets";
import type { ActionHandler, ControlContext } from "../context";
import { decodeNextToken, encodeNextToken, epochSeconds, invalidParameter, type JsonObject } from "../input";

/** ECR's limit on rules per registry. */
const MAX_RULES = 50;
const PREFIX_PATTERN = /^(ROOT|(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)$/;
/** A host with an optional port, or an http(s) URL of one (a local upstream in development). */
const UPSTREAM_URL_PATTERN = /^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?$/;

function secretArnPrefix(ctx: ControlContext): string {
  return `arn:aws:secretsmanager:${ctx.config.region}:${ctx.config.accountId}:secret:`;
}

function readPrefix(ctx: ControlContext): string {
  return ctx.input.string("ecrRepositoryPrefix", { min: 2, max: 30, pattern: PREFIX_PATTERN });
}

/** The credential ARN, checked to name an existing secret of this registry. */
async function readCredentialArn(ctx: ControlContext): Promise<string | null | undefined> {
  const arn = ctx.input.optionalString("credentialArn", { min: 50, max: 612 });
  if (arn === undefined) return undefined;
  const prefix = secretArnPrefix(ctx) + SECRET_PREFIX;
  if (!arn.startsWith(prefix))
    throw invalidParameter(
      `credentialArn must name a secret of this registry whose name starts with ${SECRET_PREFIX}: ${prefix}<name>`,
    );
  if ((await findRegistrySecret(ctx.db, arn.slice(secretArnPrefix(ctx).length))) === undefined) {
    throw new RegistryError(
      EcrError.SecretNotFoundException,
      `The secret ${arn} does not exist (store it with PUT /admin/secrets/<name>)`,
    );
  }
  return arn;
}

/**
 * `upstreamRegistry` as given (one of ECR's names), else the one the URL's host names. A host
 * ECR does not list (a local registry, say) needs it given: which kind it is decides how
 * repository names map upstream (Docker Hub's `library/`).
 */
function readUpstreamRegistry(ctx: ControlContext, upstreamRegistryUrl: string): string {
  const given = ctx.input.optionalString("upstreamRegistry");
  if (given !== undefined && !(UPSTREAM_REGISTRIES as readonly string[]).includes(given)) {
    throw new RegistryError(
      EcrError.UnsupportedUpstreamRegistryException,
      `upstreamRegistry must be one of ${UPSTREAM_REGISTRIES.join(", ")}`,
    );
  }
  const derived = given ?? upstreamRegistryOf(upstreamRegistryUrl);
  if (derived === null) {
    throw new RegistryError(
      EcrError.UnsupportedUpstreamRegistryException,
      `upstreamRegistryUrl "${upstreamRegistryUrl}" is not a registry ECR lists (public.ecr.aws, registry-1.docker.io, quay.io, registry.k8s.io, ghcr.io, <name>.azurecr.io, registry.gitlab.com, <account>.dkr.ecr.<region>.amazonaws.com, cgr.dev); for another registry give upstreamRegistry, one of ${UPSTREAM_REGISTRIES.join(", ")}`,
    );
  }
  return derived;
}

function ruleNotFound(ctx: ControlContext, prefix: string): RegistryError {
  return new RegistryError(
    EcrError.PullThroughCacheRuleNotFoundException,
    `The pull through cache rule with prefix '${prefix}' does not exist in the registry with id '${ctx.config.accountId}'`,
  );
}

function ruleShape(ctx: ControlContext, rule: PullThroughRule): JsonObject {
  return {
    ecrRepositoryPrefix: rule.prefix,
    upstreamRegistryUrl: rule.upstreamRegistryUrl,
    createdAt: epochSeconds(rule.createdAt),
    updatedAt: epochSeconds(rule.updatedAt),
    registryId: ctx.config.accountId,
    upstreamRegistry: rule.upstreamRegistry,
    ...(rule.credentialArn === null ? {} : { credentialArn: rule.credentialArn }),
    ...(rule.customRoleArn === null ? {} : { customRoleArn: rule.customRoleArn }),
    ...(rule.upstreamRepositoryPrefix === null ? {} : { upstreamRepositoryPrefix: rule.upstreamRepositoryPrefix }),
  };
}

export const pullThroughActions: Record<string, ActionHandler> = {
  async CreatePullThroughCacheRule(ctx) {
    const prefix = readPrefix(ctx);
    const upstreamRegistryUrl = ctx.input.string("upstreamRegistryUrl", {
      min: 1,
      max: 256,
      pattern: UPSTREAM_URL_PATTERN,
    });
    const upstreamRegistry = readUpstreamRegistry(ctx, upstreamRegistryUrl);
    const upstreamRepositoryPrefix =
      ctx.input.optionalString("upstreamRepositoryPrefix", { min: 2, max: 30, pattern: PREFIX_PATTERN }) ?? null;
    const customRoleArn = ctx.input.optionalString("customRoleArn", { min: 1, max: 2048 }) ?? null;
    await ctx.authorize("ecr:CreatePullThroughCacheRule", null);
    const credentialArn = (await readCredentialArn(ctx)) ?? null;
    const now = Date.now();
    const rule: PullThroughRule = {
      prefix,
      upstreamRegistryUrl,
      upstreamRegistry,
      upstreamRepositoryPrefix,
      credentialArn,
      customRoleArn,
      createdAt: now,
      updatedAt: now,
    };
    const result = await insertPullThroughRule(ctx.db, rule, MAX_RULES);
    if (result === "exists") {
      throw new RegistryError(
        EcrError.PullThroughCacheRuleAlreadyExistsException,
        `A pull through cache rule with prefix '${prefix}' already exists`,
      );
    }
    if (result === "limit")
      throw new RegistryError(
        EcrError.LimitExceededException,
        `a registry can have at most ${MAX_RULES} pull through cache rules`,
      );
    forgetRules();
    return ruleShape(ctx, rule);
  },

  async DescribePullThroughCacheRules(ctx) {
    const prefixes = ctx.input.optionalStringList("ecrRepositoryPrefixes", 1, 100, { min: 2, max: 30 });
    const maxResults = ctx.input.optionalInteger("maxResults", 1, 1000);
    const nextToken = ctx.input.optionalString("nextToken");
    await ctx.authorize("ecr:DescribePullThroughCacheRules", null);
    if (prefixes !== undefined) {
      if (nextToken !== undefined || maxResults !== undefined)
        throw invalidParameter("nextToken and maxResults cannot be used with ecrRepositoryPrefixes");
      const rules = new Map((await findPullThroughRules(ctx.db, prefixes)).map((rule) => [rule.prefix, rule]));
      return {
        pullThroughCacheRules: prefixes.map((prefix) => {
          const rule = rules.get(prefix);
          if (!rule) throw ruleNotFound(ctx, prefix);
          return ruleShape(ctx, rule);
        }),
      };
    }
    const after = decodeNextToken(nextToken);
    if (after !== undefined && typeof after !== "string")
      throw invalidParameter("nextToken is not a token this registry returned");
    const limit = maxResults ?? 100;
    const page = await listPullThroughRules(ctx.db, after ?? null, limit + 1);
    const shown = page.slice(0, limit);
    return {
      pullThroughCacheRules: shown.map((rule) => ruleShape(ctx, rule)),
      ...(page.length > limit ? { nextToken: encodeNextToken(shown[shown.length - 1]!.prefix) } : {}),
    };
  },

  async UpdatePullThroughCacheRule(ctx) {
    const prefix = readPrefix(ctx);
    const customRoleArn = ctx.input.optionalString("customRoleArn", { min: 1, max: 2048 });
    await ctx.authorize("ecr:UpdatePullThroughCacheRule", null);
    const credentialArn = await readCredentialArn(ctx);
    const updated = await updatePullThroughRule(ctx.db, prefix, { credentialArn, customRoleArn }, Date.now());
    if (!updated) throw ruleNotFound(ctx, prefix);
    forgetRules();
    return ruleShape(ctx, updated);
  },

  async DeletePullThroughCacheRule(ctx) {
    const prefix = readPrefix(ctx);
    await ctx.authorize("ecr:DeletePullThroughCacheRule", null);
    const deleted = await deletePullThroughRule(ctx.db, prefix);
    if (!deleted) throw ruleNotFound(ctx, prefix);
    forgetRules();
    return ruleShape(ctx, deleted);
  },

  async ValidatePullThroughCacheRule(ctx) {
    const prefix = readPrefix(ctx);
    await ctx.authorize("ecr:ValidatePullThroughCacheRule", null);
    const rule = (await findPullThroughRules(ctx.db, [prefix]))[0];
    if (!rule) throw ruleNotFound(ctx, prefix);
    let result: { ok: true } | { ok: false; message: string };
    try {
      const upstream = await upstreamOf(ctx.c, { rule, repository: prefix, upstreamRepository: "" });
      result = await checkUpstream(upstreamBaseUrl(rule.upstreamRegistryUrl), upstream.credentials);
    } catch (error) {
      result = { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    const { createdAt: _created, updatedAt: _updated, ...shape } = ruleShape(ctx, rule);
    return { ...shape, isValid: result.ok, ...(result.ok ? {} : { failure: result.message }) };
  },
};
