/**
 * Lifecycle policy actions: Put/Get/DeleteLifecyclePolicy, StartLifecyclePolicyPreview and
 * GetLifecyclePolicyPreview. A preview runs the same evaluator as the scheduled run
 * (src/lifecycle/evaluate.ts) on the repository as it is, and deletes nothing; it is computed
 * within the Start call (IN_PROGRESS while it runs, so a second Start meanwhile gets
 * LifecyclePolicyPreviewInProgressException) and kept until the next preview.
 */
import { EcrError, RegistryError } from "../../errors";
import { evaluateLifecycle, type ExpiryDecision } from "../../lifecycle/evaluate";
import {
  LifecyclePolicyError,
  MAX_POLICY_LENGTH,
  MIN_POLICY_LENGTH,
  parseLifecyclePolicy,
  type LifecyclePolicy,
} from "../../lifecycle/policy";
import {
  beginPreview,
  findPreview,
  finishPreview,
  loadLifecycleImages,
  setLifecyclePolicy,
} from "../../storage/lifecycle-records";
import type { RepositoryRow } from "../../storage/schema";
import type { ActionHandler, ControlContext } from "../context";
import { decodeNextToken, encodeNextToken, epochSeconds, invalidParameter, isObject, type JsonObject } from "../input";
import { repositoryName, requireRepository } from "./repositories";

/** A preview still IN_PROGRESS after this long was cut off (its Worker died); a new one may start. */
const PREVIEW_STALE_MS = 5 * 60 * 1000;

function parsePolicy(text: string): LifecyclePolicy {
  try {
    return parseLifecyclePolicy(text);
  } catch (error) {
    if (error instanceof LifecyclePolicyError) {
      throw invalidParameter(
        `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ${error.message}'`,
      );
    }
    throw error;
  }
}

function policyText(ctx: ControlContext, required: boolean): string | undefined {
  const rule = { min: MIN_POLICY_LENGTH, max: MAX_POLICY_LENGTH };
  return required
    ? ctx.input.string("lifecyclePolicyText", rule)
    : ctx.input.optionalString("lifecyclePolicyText", rule);
}

function noPolicy(ctx: ControlContext, name: string): RegistryError {
  return new RegistryError(
    EcrError.LifecyclePolicyNotFoundException,
    `Lifecycle policy does not exist for the repository with name '${name}' in the registry with id '${ctx.config.accountId}'`,
  );
}

/** GetLifecyclePolicy's answer (also DeleteLifecyclePolicy's); LifecyclePolicyNotFoundException without a policy. */
function policyShape(ctx: ControlContext, row: RepositoryRow): JsonObject {
  if (row.lifecyclePolicy === null) throw noPolicy(ctx, row.name);
  return {
    registryId: ctx.config.accountId,
    repositoryName: row.name,
    lifecyclePolicyText: row.lifecyclePolicy,
    ...(row.lifecycleEvaluatedAt === null ? {} : { lastEvaluatedAt: epochSeconds(row.lifecycleEvaluatedAt) }),
  };
}

function previewResult(decision: ExpiryDecision): JsonObject {
  return {
    imageDigest: decision.digest,
    imageTags: [...decision.tags],
    imagePushedAt: epochSeconds(decision.pushedAt),
    action: { type: "EXPIRE" },
    ...(decision.rulePriority === null ? {} : { appliedRulePriority: decision.rulePriority }),
  };
}

export const lifecycleActions: Record<string, ActionHandler> = {
  async PutLifecyclePolicy(ctx) {
    const name = repositoryName(ctx);
    const text = policyText(ctx, true)!;
    parsePolicy(text);
    await ctx.authorize("ecr:PutLifecyclePolicy", name);
    await requireRepository(ctx, name);
    await setLifecyclePolicy(ctx.db, name, text);
    return { registryId: ctx.config.accountId, repositoryName: name, lifecyclePolicyText: text };
  },

  async GetLifecyclePolicy(ctx) {
    const name = repositoryName(ctx);
    await ctx.authorize("ecr:GetLifecyclePolicy", name);
    return policyShape(ctx, await requireRepository(ctx, name));
  },

  async DeleteLifecyclePolicy(ctx) {
    const name = repositoryName(ctx);
    await ctx.authorize("ecr:DeleteLifecyclePolicy", name);
    const shape = policyShape(ctx, await requireRepository(ctx, name));
    await setLifecyclePolicy(ctx.db, name, null);
    return shape;
  },

  async StartLifecyclePolicyPreview(ctx) {
    const name = repositoryName(ctx);
    const given = policyText(ctx, false);
    if (given !== undefined) parsePolicy(given);
    await ctx.authorize("ecr:StartLifecyclePolicyPreview", name);
    const row = await requireRepository(ctx, name);
    const text = given ?? row.lifecyclePolicy;
    if (text === null) throw noPolicy(ctx, name);
    const policy = parsePolicy(text);
    const now = Date.now();
    if (!(await beginPreview(ctx.db, name, text, now, PREVIEW_STALE_MS))) {
      throw new RegistryError(
        EcrError.LifecyclePolicyPreviewInProgressException,
        `A lifecycle policy preview is already in progress for the repository with name '${name}'`,
      );
    }
    try {
      const decisions = evaluateLifecycle(policy, await loadLifecycleImages(ctx.db, name), now);
      await finishPreview(ctx.db, name, "COMPLETE", JSON.stringify(decisions));
    } catch (error) {
      await finishPreview(ctx.db, name, "FAILED", null);
      throw error;
    }
    return { registryId: ctx.config.accountId, repositoryName: name, lifecyclePolicyText: text, status: "COMPLETE" };
  },

  async GetLifecyclePolicyPreview(ctx) {
    const name = repositoryName(ctx);
    const imageIds = ctx.input.optionalList("imageIds", 1, 100);
    const maxResults = ctx.input.optionalInteger("maxResults", 1, 100);
    const nextToken = ctx.input.optionalString("nextToken");
    const filter = ctx.input.optionalObject("filter");
    const tagStatus = filter?.optionalString("tagStatus", { oneOf: ["TAGGED", "UNTAGGED", "ANY"] }) ?? "ANY";
    if (imageIds !== undefined && (nextToken !== undefined || maxResults !== undefined)) {
      throw invalidParameter("nextToken and maxResults cannot be used with imageIds");
    }
    await ctx.authorize("ecr:GetLifecyclePolicyPreview", name);
    await requireRepository(ctx, name);
    const preview = await findPreview(ctx.db, name);
    if (!preview) {
      throw new RegistryError(
        EcrError.LifecyclePolicyPreviewNotFoundException,
        `There is no lifecycle policy preview for the repository with name '${name}' in the registry with id '${ctx.config.accountId}'`,
      );
    }
    const base = {
      registryId: ctx.config.accountId,
      repositoryName: name,
      lifecyclePolicyText: preview.policyText,
      status: preview.status,
    };
    if (preview.status !== "COMPLETE" || preview.results === null) return base;
    const all = JSON.parse(preview.results) as ExpiryDecision[];
    let selected = all.filter((d) => tagStatus === "ANY" || (tagStatus === "TAGGED") === d.tags.length > 0);
    if (imageIds !== undefined) {
      const wanted = imageIds.map((id, index) => {
        if (!isObject(id)) throw invalidParameter(`imageIds[${index}] must be an object`);
        return {
          digest: typeof id.imageDigest === "string" ? id.imageDigest : null,
          tag: typeof id.imageTag === "string" ? id.imageTag : null,
        };
      });
      selected = selected.filter((d) =>
        wanted.some((w) => w.digest === d.digest || (w.tag !== null && d.tags.includes(w.tag))),
      );
      return { ...base, previewResults: selected.map(previewResult), summary: { expiringImageTotalCount: all.length } };
    }
    const start = decodeNextToken(nextToken) ?? 0;
    if (typeof start !== "number" || !Number.isInteger(start) || start < 0)
      throw invalidParameter("nextToken is not a token this registry returned");
    const limit = maxResults ?? 100;
    const page = selected.slice(start, start + limit);
    return {
      ...base,
      previewResults: page.map(previewResult),
      summary: { expiringImageTotalCount: all.length },
      ...(start + limit < selected.length ? { nextToken: encodeNextToken(start + limit) } : {}),
    };
  },
};
