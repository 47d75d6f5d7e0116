/**
 * Repository actions: Create/Describe/DeleteRepository, PutImageTagMutability,
 * PutImageScanningConfiguration, Set/Get/DeleteRepositoryPolicy, and resource tags
 * (TagResource, UntagResource, ListTagsForResource). Writes that race with pushes
 * (create, delete, tag mutability) go through the repository's Durable Object.
 */
import { repositoryArn } from "../../auth/access";
import { parsePolicyDocument, PolicyError, MAX_POLICY_LENGTH } from "../../auth/policy/document";
import { isValidRepositoryName } from "../../oci/grammar";
import { EcrError, RegistryError } from "../../errors";
import { repositoryObject } from "../../repository/stub";
import {
  findRepositories,
  findRepository,
  listRepositories,
  setRepositoryPolicy,
  setRepositoryTags,
  setScanOnPush,
  type ExclusionFilter,
  type TagMutabilitySetting,
} from "../../storage/repository-records";
import {
  MAX_EXCLUSION_FILTERS,
  parseStoredFilters,
  readTagMutabilitySetting,
  TagMutabilityError,
} from "../../repository/tag-mutability";
import { ENCRYPTION_TYPES, type RepositoryRow } from "../../storage/schema";
import type { ActionHandler, ControlContext } from "../context";
import {
  checkRegistryId,
  decodeNextToken,
  encodeNextToken,
  epochSeconds,
  invalidParameter,
  isObject,
  type Input,
  type JsonObject,
} from "../input";

/** AWS allows 50 tags per resource. */
const MAX_RESOURCE_TAGS = 50;
const DEFAULT_PAGE = 100;

export function repositoryName(ctx: ControlContext, member = "repositoryName"): string {
  const name = ctx.input.string(member, { min: 2, max: 256 });
  if (!isValidRepositoryName(name)) {
    throw invalidParameter(
      `Invalid parameter at '${member}' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''`,
    );
  }
  checkRegistryId(ctx.input, ctx.config.accountId);
  return name;
}

export function repositoryNotFound(ctx: ControlContext, name: string): RegistryError {
  return new RegistryError(
    EcrError.RepositoryNotFoundException,
    `The repository with name '${name}' does not exist in the registry with id '${ctx.config.accountId}'`,
  );
}

/** The repository row, or RepositoryNotFoundException. */
export async function requireRepository(ctx: ControlContext, name: string): Promise<RepositoryRow> {
  const row = await findRepository(ctx.db, name);
  if (!row) throw repositoryNotFound(ctx, name);
  return row;
}

export function repositoryShape(ctx: ControlContext, row: RepositoryRow): JsonObject {
  return {
    repositoryArn: repositoryArn(ctx.config.region, ctx.config.accountId, row.name),
    registryId: ctx.config.accountId,
    repositoryName: row.name,
    repositoryUri: `${ctx.registryHost}/${row.name}`,
    createdAt: epochSeconds(row.createdAt),
    imageTagMutability: row.imageTagMutability,
    ...exclusionFiltersShape(parseStoredFilters(row.imageTagMutabilityExclusionFilters)),
    imageScanningConfiguration: { scanOnPush: row.scanOnPush },
    encryptionConfiguration:
      row.kmsKey === null
        ? { encryptionType: row.encryptionType }
        : { encryptionType: row.encryptionType, kmsKey: row.kmsKey },
  };
}

/** ECR's `imageTagMutabilityExclusionFilters` member: present only for the _WITH_EXCLUSION settings. */
export function exclusionFiltersShape(filters: readonly ExclusionFilter[]): JsonObject {
  return filters.length === 0
    ? {}
    : { imageTagMutabilityExclusionFilters: filters.map(({ filterType, filter }) => ({ filterType, filter })) };
}

/**
 * `imageTagMutability` with `imageTagMutabilityExclusionFilters`, validated together as ECR does
 * (src/repository/tag-mutability.ts); undefined when neither is given and the setting is optional.
 */
export function readTagMutability(input: Input, required: boolean): TagMutabilitySetting | undefined {
  const mutability = required ? input.string("imageTagMutability") : input.optionalString("imageTagMutability");
  const filters = input.optionalList("imageTagMutabilityExclusionFilters", 1, MAX_EXCLUSION_FILTERS);
  if (mutability === undefined && filters === undefined) return undefined;
  try {
    return readTagMutabilitySetting(mutability ?? "MUTABLE", filters);
  } catch (error) {
    if (error instanceof TagMutabilityError) throw invalidParameter(error.message);
    throw error;
  }
}

/** `tags` as ECR sends them: [{Key, Value}], validated as AWS validates resource tags. */
export function readTags(input: Input, member: string, min: number): Record<string, string> {
  const list = input.optionalList(member, min, 200);
  if (list === undefined) return {};
  // Collected in a Map: a tag key is any string, `__proto__` included, which assigning to a
  // plain object would turn into a prototype change. fromEntries defines own properties.
  const tags = new Map<string, string>();
  for (const [index, item] of list.entries()) {
    if (
      !isObject(item) ||
      typeof item.Key !== "string" ||
      (item.Value !== undefined && typeof item.Value !== "string")
    ) {
      throw new RegistryError(
        EcrError.InvalidTagParameterException,
        `${member}[${index}] must be {"Key": string, "Value": string}`,
      );
    }
    const key = item.Key;
    const value = typeof item.Value === "string" ? item.Value : "";
    if (
      key.length < 1 ||
      key.length > 128 ||
      value.length > 256 ||
      !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(key + value)
    ) {
      throw new RegistryError(
        EcrError.InvalidTagParameterException,
        `tag "${key}": keys are 1-128 and values 0-256 characters of letters, digits, spaces and _ . : / = + - @`,
      );
    }
    if (key.toLowerCase().startsWith("aws:"))
      throw new RegistryError(EcrError.InvalidTagParameterException, `tag keys may not start with "aws:" (${key})`);
    tags.set(key, value);
  }
  if (tags.size > MAX_RESOURCE_TAGS) {
    throw new RegistryError(EcrError.TooManyTagsException, `a repository can have at most ${MAX_RESOURCE_TAGS} tags`);
  }
  return Object.fromEntries(tags);
}

export function parseRepositoryPolicy(text: string): void {
  try {
    parsePolicyDocument(text, "resource");
  } catch (error) {
    if (error instanceof PolicyError) {
      throw invalidParameter(
        `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided': ${error.message}`,
      );
    }
    throw error;
  }
}

/** The repository named by a resource ARN of this registry. */
function repositoryFromArn(ctx: ControlContext): string {
  const arn = ctx.input.string("resourceArn", { min: 1, max: 1024 });
  const prefix = `arn:aws:ecr:${ctx.config.region}:${ctx.config.accountId}:repository/`;
  const name = arn.startsWith(prefix) ? arn.slice(prefix.length) : "";
  if (!isValidRepositoryName(name))
    throw invalidParameter(`resourceArn must be a repository ARN of this registry (${prefix}<name>); got "${arn}"`);
  return name;
}

export function tagList(tags: Record<string, string>): JsonObject[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export const repositoryActions: Record<string, ActionHandler> = {
  async CreateRepository(ctx) {
    const name = repositoryName(ctx);
    const mutability = readTagMutability(ctx.input, false) ?? { mutability: "MUTABLE", exclusionFilters: [] };
    const scanning = ctx.input.optionalObject("imageScanningConfiguration");
    const scanOnPush = scanning?.optionalBoolean("scanOnPush") ?? false;
    const encryption = ctx.input.optionalObject("encryptionConfiguration");
    const encryptionType = (encryption?.string("encryptionType", { oneOf: ENCRYPTION_TYPES }) ??
      "AES256") as (typeof ENCRYPTION_TYPES)[number];
    const kmsKey = encryption?.optionalString("kmsKey", { min: 1, max: 2048 }) ?? null;
    if (kmsKey !== null && encryptionType === "AES256")
      throw invalidParameter("kmsKey can only be given with encryptionType KMS or KMS_DSSE");
    const tags = readTags(ctx.input, "tags", 0);
    await ctx.authorize("ecr:CreateRepository", name);
    if (Object.keys(tags).length > 0) await ctx.authorize("ecr:TagResource", name);
    const created = await repositoryObject(ctx.c.env, name).createRepository({
      name,
      imageTagMutability: mutability.mutability,
      imageTagMutabilityExclusionFilters: mutability.exclusionFilters,
      scanOnPush,
      encryptionType,
      kmsKey,
      tags,
      createdAt: Date.now(),
    });
    if (!created) {
      throw new RegistryError(
        EcrError.RepositoryAlreadyExistsException,
        `The repository with name '${name}' already exists in the registry with id '${ctx.config.accountId}'`,
      );
    }
    return { repository: repositoryShape(ctx, await requireRepository(ctx, name)) };
  },

  async DescribeRepositories(ctx) {
    checkRegistryId(ctx.input, ctx.config.accountId);
    const names = ctx.input.optionalStringList("repositoryNames", 1, 100, { min: 2, max: 256 });
    const maxResults = ctx.input.optionalInteger("maxResults", 1, 1000);
    const nextToken = ctx.input.optionalString("nextToken");
    if (names !== undefined) {
      if (nextToken !== undefined || maxResults !== undefined) {
        throw invalidParameter("nextToken and maxResults cannot be used with repositoryNames");
      }
      const rows = new Map((await findRepositories(ctx.db, names)).map((row) => [row.name, row]));
      const repositories: JsonObject[] = [];
      for (const name of names) {
        const row = rows.get(name);
        if (!row) throw repositoryNotFound(ctx, name);
        await ctx.authorize("ecr:DescribeRepositories", name);
        repositories.push(repositoryShape(ctx, row));
      }
      return { repositories };
    }
    // Listing: repositories the caller may not describe are left out, as the catalog does.
    const after = decodeNextToken(nextToken);
    if (after !== undefined && typeof after !== "string")
      throw invalidParameter("nextToken is not a token this registry returned");
    const limit = maxResults ?? DEFAULT_PAGE;
    const repositories: JsonObject[] = [];
    let cursor = after ?? null;
    let last: string | null = null;
    for (;;) {
      const rows = await listRepositories(ctx.db, cursor, limit + 1);
      for (const row of rows.slice(0, limit + 1)) {
        if (repositories.length === limit) {
          return { repositories, nextToken: encodeNextToken(last) };
        }
        last = row.name;
        const facts = { name: row.name, policy: row.policy, tags: row.tags };
        if (ctx.allowedOn("ecr:DescribeRepositories", facts)) repositories.push(repositoryShape(ctx, row));
      }
      if (rows.length < limit + 1) return { repositories };
      cursor = last;
    }
  },

  async DeleteRepository(ctx) {
    const name = repositoryName(ctx);
    const force = ctx.input.optionalBoolean("force") ?? false;
    await ctx.authorize("ecr:DeleteRepository", name);
    const result = await repositoryObject(ctx.c.env, name).deleteRepository(name, force);
    if (result.status === "not-found") throw repositoryNotFound(ctx, name);
    if (result.status === "not-empty") {
      throw new RegistryError(
        EcrError.RepositoryNotEmptyException,
        `The repository with name '${name}' in registry with id '${ctx.config.accountId}' cannot be deleted because it still contains images`,
      );
    }
    return { repository: repositoryShape(ctx, result.row) };
  },

  async PutImageTagMutability(ctx) {
    const name = repositoryName(ctx);
    const setting = readTagMutability(ctx.input, true);
    if (setting === undefined) throw invalidParameter("imageTagMutability is required");
    await ctx.authorize("ecr:PutImageTagMutability", name);
    if (!(await repositoryObject(ctx.c.env, name).setTagMutability(name, setting))) throw repositoryNotFound(ctx, name);
    return {
      registryId: ctx.config.accountId,
      repositoryName: name,
      imageTagMutability: setting.mutability,
      ...exclusionFiltersShape(setting.exclusionFilters),
    };
  },

  async PutImageScanningConfiguration(ctx) {
    const name = repositoryName(ctx);
    const scanning = ctx.input.optionalObject("imageScanningConfiguration");
    if (scanning === undefined) throw invalidParameter("imageScanningConfiguration is required");
    const scanOnPush = scanning.optionalBoolean("scanOnPush") ?? false;
    await ctx.authorize("ecr:PutImageScanningConfiguration", name);
    if (!(await setScanOnPush(ctx.db, name, scanOnPush))) throw repositoryNotFound(ctx, name);
    return { registryId: ctx.config.accountId, repositoryName: name, imageScanningConfiguration: { scanOnPush } };
  },

  async SetRepositoryPolicy(ctx) {
    const name = repositoryName(ctx);
    const policyText = ctx.input.string("policyText", { min: 0, max: MAX_POLICY_LENGTH });
    const force = ctx.input.optionalBoolean("force") ?? false;
    parseRepositoryPolicy(policyText);
    await ctx.authorize("ecr:SetRepositoryPolicy", name);
    const row = await requireRepository(ctx, name);
    if (!force) {
      // The lock-out guard: a policy that would refuse this caller the next SetRepositoryPolicy needs force.
      const facts = { name, policy: policyText, tags: row.tags };
      if (!ctx.allowedOn("ecr:SetRepositoryPolicy", facts)) {
        throw invalidParameter(
          "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'The repository policy would prevent you from setting another policy in the future; use force to set it anyway'",
        );
      }
    }
    if (!(await setRepositoryPolicy(ctx.db, name, policyText))) throw repositoryNotFound(ctx, name);
    return { registryId: ctx.config.accountId, repositoryName: name, policyText };
  },

  async GetRepositoryPolicy(ctx) {
    const name = repositoryName(ctx);
    await ctx.authorize("ecr:GetRepositoryPolicy", name);
    const row = await requireRepository(ctx, name);
    if (row.policy === null) throw noRepositoryPolicy(ctx, name);
    return { registryId: ctx.config.accountId, repositoryName: name, policyText: row.policy };
  },

  async DeleteRepositoryPolicy(ctx) {
    const name = repositoryName(ctx);
    await ctx.authorize("ecr:DeleteRepositoryPolicy", name);
    const row = await requireRepository(ctx, name);
    if (row.policy === null) throw noRepositoryPolicy(ctx, name);
    await setRepositoryPolicy(ctx.db, name, null);
    return { registryId: ctx.config.accountId, repositoryName: name, policyText: row.policy };
  },

  async TagResource(ctx) {
    const name = repositoryFromArn(ctx);
    const added = readTags(ctx.input, "tags", 0);
    if (!ctx.input.has("tags")) throw invalidParameter("tags is required");
    await ctx.authorize("ecr:TagResource", name);
    const row = await requireRepository(ctx, name);
    const tags = { ...row.tags, ...added };
    if (Object.keys(tags).length > MAX_RESOURCE_TAGS) {
      throw new RegistryError(EcrError.TooManyTagsException, `a repository can have at most ${MAX_RESOURCE_TAGS} tags`);
    }
    if (!(await setRepositoryTags(ctx.db, name, tags))) throw repositoryNotFound(ctx, name);
    return {};
  },

  async UntagResource(ctx) {
    const name = repositoryFromArn(ctx);
    const keys = ctx.input.stringList("tagKeys", 0, 200, { min: 1, max: 128 });
    await ctx.authorize("ecr:UntagResource", name);
    const row = await requireRepository(ctx, name);
    const tags = row.tags;
    for (const key of keys) delete tags[key];
    if (!(await setRepositoryTags(ctx.db, name, tags))) throw repositoryNotFound(ctx, name);
    return {};
  },

  async ListTagsForResource(ctx) {
    const name = repositoryFromArn(ctx);
    await ctx.authorize("ecr:ListTagsForResource", name);
    const row = await requireRepository(ctx, name);
    return { tags: tagList(row.tags) };
  },
};

function noRepositoryPolicy(ctx: ControlContext, name: string): RegistryError {
  return new RegistryError(
    EcrError.RepositoryPolicyNotFoundException,
    `Repository policy does not exist for the repository with name '${name}' in the registry with id '${ctx.config.accountId}'`,
  );
}
