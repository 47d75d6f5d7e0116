/**
 * Repository creation templates: CreateRepositoryCreationTemplate, DescribeRepositoryCreationTemplates,
 * UpdateRepositoryCreationTemplate, DeleteRepositoryCreationTemplate. A template gives the
 * repositories that replication, a pull-through cache or a push creates their settings (tag
 * mutability, repository policy, lifecycle policy, resource tags, encryption); see
 * src/repository/creation-templates.ts for which template applies.
 */
import { parsePolicyDocument, PolicyError, MAX_POLICY_LENGTH } from "../../auth/policy/document";
import { EcrError, RegistryError } from "../../errors";
import { LifecyclePolicyError, parseLifecyclePolicy } from "../../lifecycle/policy";
import { APPLIED_FOR, ROOT_PREFIX } from "../../repository/creation-templates";
import { parseStoredFilters } from "../../repository/tag-mutability";
import {
  deleteCreationTemplate,
  insertCreationTemplate,
  listCreationTemplates,
  updateCreationTemplate,
} from "../../storage/creation-template-records";
import { ENCRYPTION_TYPES, type RepositoryCreationTemplateRow } from "../../storage/schema";
import type { ActionHandler, ControlContext } from "../context";
import { decodeNextToken, encodeNextToken, epochSeconds, invalidParameter, type JsonObject } from "../input";
import { exclusionFiltersShape, readTagMutability, readTags, tagList } from "./repositories";

/** ECR's quota of creation templates per registry. */
const MAX_TEMPLATES = 100;
// ECR's prefix grammar: a repository namespace (it may end with "/"), or ROOT.
const PREFIX = /^(?:(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*\/?|ROOT)$/;

function validation(message: string): RegistryError {
  return new RegistryError(EcrError.ValidationException, message);
}

function readPrefix(ctx: ControlContext): string {
  const prefix = ctx.input.string("prefix", { min: 1, max: 256 });
  if (!PREFIX.test(prefix))
    throw validation(
      `Invalid parameter at 'prefix' failed to satisfy constraint: a repository namespace prefix (lowercase letters, digits, . _ - and /) or ${ROOT_PREFIX}`,
    );
  return prefix;
}

/** The settings of a template from the request; for an update, `current` fills in what is not given. */
function readTemplate(
  ctx: ControlContext,
  prefix: string,
  current: RepositoryCreationTemplateRow | null,
  now: number,
): RepositoryCreationTemplateRow {
  const input = ctx.input;
  const description = input.optionalString("description", { max: 256 });
  const appliedFor = input.optionalStringList("appliedFor", 1, APPLIED_FOR.length, { oneOf: APPLIED_FOR });
  if (current === null && appliedFor === undefined) throw validation("appliedFor is required");
  const mutability = readTagMutability(input, false);
  const repositoryPolicy = input.optionalString("repositoryPolicy", { max: MAX_POLICY_LENGTH });
  if (repositoryPolicy !== undefined && repositoryPolicy !== "") {
    try {
      parsePolicyDocument(repositoryPolicy, "resource");
    } catch (error) {
      if (error instanceof PolicyError) throw invalidParameter(`Invalid repository policy provided: ${error.message}`);
      throw error;
    }
  }
  const lifecyclePolicy = input.optionalString("lifecyclePolicy", { max: 30_720 });
  if (lifecyclePolicy !== undefined && lifecyclePolicy !== "") {
    try {
      parseLifecyclePolicy(lifecyclePolicy);
    } catch (error) {
      if (error instanceof LifecyclePolicyError)
        throw invalidParameter(`Lifecycle policy validation failure: ${error.message}`);
      throw error;
    }
  }
  const tagsGiven = input.optionalList("resourceTags", 0, 200) !== undefined;
  const resourceTags = readTags(input, "resourceTags", 0);
  const encryption = input.optionalObject("encryptionConfiguration");
  const encryptionType = encryption?.string("encryptionType", { oneOf: ENCRYPTION_TYPES }) as
    (typeof ENCRYPTION_TYPES)[number] | undefined;
  const kmsKey = encryption?.optionalString("kmsKey", { min: 1, max: 2048 }) ?? null;
  if (kmsKey !== null && encryptionType === "AES256")
    throw invalidParameter("kmsKey can only be given with encryptionType KMS or KMS_DSSE");
  const customRoleArn = input.optionalString("customRoleArn", { max: 2048 });
  return {
    prefix,
    description: description ?? current?.description ?? null,
    appliedFor: appliedFor ?? current?.appliedFor ?? [],
    imageTagMutability: mutability?.mutability ?? current?.imageTagMutability ?? "MUTABLE",
    imageTagMutabilityExclusionFilters:
      mutability === undefined
        ? (current?.imageTagMutabilityExclusionFilters ?? "[]")
        : JSON.stringify(mutability.exclusionFilters),
    repositoryPolicy: repositoryPolicy === undefined ? (current?.repositoryPolicy ?? null) : repositoryPolicy || null,
    lifecyclePolicy: lifecyclePolicy === undefined ? (current?.lifecyclePolicy ?? null) : lifecyclePolicy || null,
    resourceTags: tagsGiven ? resourceTags : (current?.resourceTags ?? {}),
    encryptionType: encryptionType ?? current?.encryptionType ?? "AES256",
    kmsKey: encryption === undefined ? (current?.kmsKey ?? null) : kmsKey,
    customRoleArn: customRoleArn === undefined ? (current?.customRoleArn ?? null) : customRoleArn || null,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
  };
}

function templateShape(row: RepositoryCreationTemplateRow): JsonObject {
  return {
    prefix: row.prefix,
    ...(row.description === null ? {} : { description: row.description }),
    encryptionConfiguration:
      row.kmsKey === null
        ? { encryptionType: row.encryptionType }
        : { encryptionType: row.encryptionType, kmsKey: row.kmsKey },
    resourceTags: tagList(row.resourceTags),
    imageTagMutability: row.imageTagMutability,
    ...exclusionFiltersShape(parseStoredFilters(row.imageTagMutabilityExclusionFilters)),
    ...(row.repositoryPolicy === null ? {} : { repositoryPolicy: row.repositoryPolicy }),
    ...(row.lifecyclePolicy === null ? {} : { lifecyclePolicy: row.lifecyclePolicy }),
    appliedFor: row.appliedFor,
    ...(row.customRoleArn === null ? {} : { customRoleArn: row.customRoleArn }),
    createdAt: epochSeconds(row.createdAt),
    updatedAt: epochSeconds(row.updatedAt),
  };
}

function notFound(ctx: ControlContext, prefix: string): RegistryError {
  return new RegistryError(
    EcrError.TemplateNotFoundException,
    `The repository creation template with prefix '${prefix}' does not exist in the registry with id '${ctx.config.accountId}'`,
  );
}

async function findTemplate(ctx: ControlContext, prefix: string): Promise<RepositoryCreationTemplateRow | undefined> {
  return (await listCreationTemplates(ctx.db)).find((row) => row.prefix === prefix);
}

export const templateActions: Record<string, ActionHandler> = {
  async CreateRepositoryCreationTemplate(ctx) {
    const prefix = readPrefix(ctx);
    const row = readTemplate(ctx, prefix, null, Date.now());
    await ctx.authorize("ecr:CreateRepositoryCreationTemplate", null);
    const result = await insertCreationTemplate(ctx.db, row, MAX_TEMPLATES);
    if (result === "exists")
      throw new RegistryError(
        EcrError.TemplateAlreadyExistsException,
        `The repository creation template with prefix '${prefix}' already exists in the registry with id '${ctx.config.accountId}'`,
      );
    if (result === "limit")
      throw new RegistryError(
        EcrError.LimitExceededException,
        `The registry has ${MAX_TEMPLATES} repository creation templates, the most it may have`,
      );
    return { registryId: ctx.config.accountId, repositoryCreationTemplate: templateShape(row) };
  },

  async DescribeRepositoryCreationTemplates(ctx) {
    const prefixes = ctx.input.optionalStringList("prefixes", 1, 100, { min: 1, max: 256 });
    const maxResults = ctx.input.optionalInteger("maxResults", 1, 1000) ?? 100;
    const after = decodeNextToken(ctx.input.optionalString("nextToken"));
    if (after !== undefined && typeof after !== "string")
      throw invalidParameter("nextToken is not a token this registry returned");
    await ctx.authorize("ecr:DescribeRepositoryCreationTemplates", null);
    const rows = (await listCreationTemplates(ctx.db)).filter(
      (row) => (prefixes === undefined || prefixes.includes(row.prefix)) && (after === undefined || row.prefix > after),
    );
    const page = rows.slice(0, maxResults);
    const more = rows.length > maxResults ? page.at(-1)?.prefix : undefined;
    return {
      registryId: ctx.config.accountId,
      repositoryCreationTemplates: page.map(templateShape),
      ...(more === undefined ? {} : { nextToken: encodeNextToken(more) }),
    };
  },

  async UpdateRepositoryCreationTemplate(ctx) {
    const prefix = readPrefix(ctx);
    const current = await findTemplate(ctx, prefix);
    await ctx.authorize("ecr:UpdateRepositoryCreationTemplate", null);
    if (current === undefined) throw notFound(ctx, prefix);
    const updated = await updateCreationTemplate(ctx.db, readTemplate(ctx, prefix, current, Date.now()));
    if (updated === undefined) throw notFound(ctx, prefix);
    return { registryId: ctx.config.accountId, repositoryCreationTemplate: templateShape(updated) };
  },

  async DeleteRepositoryCreationTemplate(ctx) {
    const prefix = readPrefix(ctx);
    await ctx.authorize("ecr:DeleteRepositoryCreationTemplate", null);
    const removed = await deleteCreationTemplate(ctx.db, prefix);
    if (removed === undefined) throw notFound(ctx, prefix);
    return { registryId: ctx.config.accountId, repositoryCreationTemplate: templateShape(removed) };
  },
};
