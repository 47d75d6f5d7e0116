/**
 * Tag mutability as ECR decides it. MUTABLE and IMMUTABLE apply to every tag. The
 * _WITH_EXCLUSION settings apply to every tag except those matching one of the repository's
 * exclusion filters, which get the opposite: in an IMMUTABLE_WITH_EXCLUSION repository a tag
 * matching `latest` or `dev-*` moves and every other tag is fixed; in a MUTABLE_WITH_EXCLUSION
 * repository only the matching tags are fixed. Filters are ECR's WILDCARD filters: `*` matches
 * any run of characters (none included), everything else itself, over the whole tag.
 *
 * Pure. The repository's Durable Object calls isTagImmutable when a push would move a tag;
 * the control plane and the admin API validate settings with readTagMutabilitySetting.
 */
import { matchesTagPattern } from "../oci/grammar";
import type { ExclusionFilter, TagMutabilitySetting } from "../storage/repository-records";
import { TAG_MUTABILITY, type TagMutability } from "../storage/schema";

/** ECR's limits (API reference, ImageTagMutabilityExclusionFilter and PutImageTagMutability). */
export const MAX_EXCLUSION_FILTERS = 5;
const FILTER_PATTERN = /^[0-9a-zA-Z._*-]{1,128}$/;
const FILTERS_MEMBER = "imageTagMutabilityExclusionFilters";

/** Whether a push may not move `tag` off the manifest it points at. */
export function isTagImmutable(
  mutability: TagMutability,
  exclusionFilters: readonly ExclusionFilter[],
  tag: string,
): boolean {
  switch (mutability) {
    case "MUTABLE":
      return false;
    case "IMMUTABLE":
      return true;
    case "IMMUTABLE_WITH_EXCLUSION":
      return !isExcluded(exclusionFilters, tag);
    case "MUTABLE_WITH_EXCLUSION":
      return isExcluded(exclusionFilters, tag);
  }
}

function isExcluded(filters: readonly ExclusionFilter[], tag: string): boolean {
  return filters.some((filter) => matchesTagPattern(filter.filter, tag));
}

export class TagMutabilityError extends Error {
  override readonly name = "TagMutabilityError";
}

function fail(message: string): never {
  throw new TagMutabilityError(message);
}

export function hasExclusions(mutability: TagMutability): boolean {
  return mutability === "MUTABLE_WITH_EXCLUSION" || mutability === "IMMUTABLE_WITH_EXCLUSION";
}

/**
 * Validates an (imageTagMutability, imageTagMutabilityExclusionFilters) pair as ECR's API takes
 * it; `filters` is the raw member, undefined when absent. Throws TagMutabilityError.
 */
export function readTagMutabilitySetting(mutability: unknown, filters: unknown): TagMutabilitySetting {
  if (typeof mutability !== "string" || !(TAG_MUTABILITY as readonly string[]).includes(mutability)) {
    fail(`imageTagMutability must be one of ${TAG_MUTABILITY.join(", ")}; got ${JSON.stringify(mutability)}`);
  }
  const setting = mutability as TagMutability;
  if (filters === undefined || filters === null) {
    // ECR's message for this case, as CloudFormation users have quoted it.
    if (hasExclusions(setting)) {
      fail(
        `Invalid parameter at '${FILTERS_MEMBER}' failed to satisfy constraint: 'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as ${setting}'`,
      );
    }
    return { mutability: setting, exclusionFilters: [] };
  }
  if (!hasExclusions(setting)) {
    fail(
      `Invalid parameter at '${FILTERS_MEMBER}' failed to satisfy constraint: 'ImageTagMutabilityExclusionFilters can only be set when imageTagMutability is MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION, not ${setting}'`,
    );
  }
  if (!Array.isArray(filters) || filters.length < 1 || filters.length > MAX_EXCLUSION_FILTERS) {
    fail(`${FILTERS_MEMBER} must be a list of 1 to ${MAX_EXCLUSION_FILTERS} filters`);
  }
  const list: unknown[] = filters;
  return {
    mutability: setting,
    exclusionFilters: list.map((entry, index) => readFilter(entry, `${FILTERS_MEMBER}[${index}]`)),
  };
}

function readFilter(entry: unknown, where: string): ExclusionFilter {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry))
    fail(`${where} must be {"filterType": "WILDCARD", "filter": string}`);
  const fields = new Map<string, unknown>(Object.entries(entry));
  for (const key of fields.keys()) {
    if (key !== "filterType" && key !== "filter") fail(`${where} has unknown member ${JSON.stringify(key)}`);
  }
  const filterType = fields.get("filterType");
  if (filterType !== "WILDCARD")
    fail(`${where}.filterType must be WILDCARD; got ${JSON.stringify(filterType ?? null)}`);
  const filter = fields.get("filter");
  if (typeof filter !== "string" || !FILTER_PATTERN.test(filter)) {
    fail(
      `Invalid parameter at '${where}.filter' failed to satisfy constraint: 'must satisfy regular expression '${FILTER_PATTERN.source}''`,
    );
  }
  return { filterType: "WILDCARD", filter };
}

/** The filters as stored in the repository row (JSON written by this module's callers). */
export function parseStoredFilters(text: string): ExclusionFilter[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) return [];
  const list: unknown[] = parsed;
  return list.flatMap((entry) => {
    if (typeof entry !== "object" || entry === null) return [];
    const filter = (entry as { filter?: unknown }).filter;
    return typeof filter === "string" ? [{ filterType: "WILDCARD" as const, filter }] : [];
  });
}
