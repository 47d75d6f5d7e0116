/**
 * Repository creation templates (ECR's CreateRepositoryCreationTemplate): which template gives
 * a new repository its settings, and those settings. Pure.
 *
 * A template applies to repositories created for the reasons it lists (`appliedFor`):
 * replication into this registry, a pull-through cache's first pull, or a push to a name that
 * does not exist. Its prefix names a namespace (`team-a` covers `team-a/...`; `team-a/` the
 * same; `ROOT` every repository); of the templates that apply, the longest prefix wins.
 */
import type { ExclusionFilter } from "../storage/repository-records";
import type { TagMutability } from "../storage/schema";
import { parseStoredFilters } from "./tag-mutability";

export const APPLIED_FOR = ["REPLICATION", "PULL_THROUGH_CACHE", "CREATE_ON_PUSH"] as const;
export type AppliedFor = (typeof APPLIED_FOR)[number];
export const ROOT_PREFIX = "ROOT";

/** What matching needs of a stored template. */
export interface TemplateSettings {
  prefix: string;
  appliedFor: readonly string[];
  imageTagMutability: TagMutability;
  imageTagMutabilityExclusionFilters: string;
  repositoryPolicy: string | null;
  lifecyclePolicy: string | null;
  resourceTags: Record<string, string>;
  encryptionType: "AES256" | "KMS" | "KMS_DSSE";
  kmsKey: string | null;
}

/** True when the template's prefix covers the repository name. */
export function prefixCovers(prefix: string, name: string): boolean {
  if (prefix === ROOT_PREFIX) return true;
  const namespace = prefix.endsWith("/") ? prefix : `${prefix}/`;
  return name === prefix.replace(/\/$/, "") || name.startsWith(namespace);
}

/** The template for a repository created for `reason`, or null when none applies. */
export function templateFor<T extends TemplateSettings>(
  templates: readonly T[],
  name: string,
  reason: AppliedFor,
): T | null {
  let chosen: T | null = null;
  let chosenLength = -1;
  for (const template of templates) {
    if (!template.appliedFor.includes(reason) || !prefixCovers(template.prefix, name)) continue;
    const length = template.prefix === ROOT_PREFIX ? 0 : template.prefix.replace(/\/$/, "").length;
    if (length > chosenLength) {
      chosen = template;
      chosenLength = length;
    }
  }
  return chosen;
}

/** The settings a repository is created with: the template's, or the defaults without one. */
export interface CreatedRepositorySettings {
  imageTagMutability: TagMutability;
  imageTagMutabilityExclusionFilters: ExclusionFilter[];
  policy: string | null;
  lifecyclePolicy: string | null;
  tags: Record<string, string>;
  encryptionType: "AES256" | "KMS" | "KMS_DSSE";
  kmsKey: string | null;
}

export function settingsFrom(template: TemplateSettings | null): CreatedRepositorySettings {
  if (template === null)
    return {
      imageTagMutability: "MUTABLE",
      imageTagMutabilityExclusionFilters: [],
      policy: null,
      lifecyclePolicy: null,
      tags: {},
      encryptionType: "AES256",
      kmsKey: null,
    };
  return {
    imageTagMutability: template.imageTagMutability,
    imageTagMutabilityExclusionFilters: parseStoredFilters(template.imageTagMutabilityExclusionFilters),
    policy: template.repositoryPolicy,
    lifecyclePolicy: template.lifecyclePolicy,
    tags: { ...template.resourceTags },
    encryptionType: template.encryptionType,
    kmsKey: template.kmsKey,
  };
}
