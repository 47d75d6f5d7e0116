/**
 * BatchDeleteImage's rules, decided from facts read in the repository's Durable Object:
 * deleting by tag removes the tag, and the image with it when that was its last tag; deleting
 * by digest removes the image and all its tags; an image an index still lists (one not
 * deleted by the same request) is not deleted (ImageReferencedByManifestList). Pure.
 */

/** One requested image id, already checked to be well formed (a digest, a tag, or both). */
export interface ImageTarget {
  digest?: string;
  tag?: string;
}

export type DeletionFailureCode = "ImageNotFound" | "ImageTagDoesNotMatchDigest" | "ImageReferencedByManifestList";

export interface DeletionFailure {
  target: ImageTarget;
  code: DeletionFailureCode;
  reason: string;
}

export interface DeletedImage {
  digest: string;
  tag: string | null;
}

export interface DeletionFacts {
  /** Where each requested tag points (missing tags absent). */
  tagDigests: ReadonlyMap<string, string>;
  /** Which requested digests exist. */
  existing: ReadonlySet<string>;
  /** Every tag of each resolved digest. */
  tagsOf: ReadonlyMap<string, readonly string[]>;
  /** Indexes listing each resolved digest. */
  parentsOf: ReadonlyMap<string, readonly string[]>;
}

export interface DeletionPlan {
  deleted: DeletedImage[];
  failures: DeletionFailure[];
  /** Manifests to delete (their tags go with them). */
  manifests: string[];
  /** Tags to delete from manifests that stay. */
  tags: string[];
}

interface Resolved {
  target: ImageTarget;
  digest: string;
}

function resolve(target: ImageTarget, facts: DeletionFacts): Resolved | DeletionFailure {
  const notFound: DeletionFailure = { target, code: "ImageNotFound", reason: "Requested image not found" };
  if (target.tag !== undefined) {
    const digest = facts.tagDigests.get(target.tag);
    if (digest === undefined) return notFound;
    if (target.digest !== undefined && target.digest !== digest) {
      return {
        target,
        code: "ImageTagDoesNotMatchDigest",
        reason: "Invalid request parameters: given tag does not map to the given digest",
      };
    }
    return { target, digest };
  }
  if (target.digest === undefined || !facts.existing.has(target.digest)) return notFound;
  return { target, digest: target.digest };
}

/** Digests whose deletion the request asks for: by digest, or by removing every tag. */
function doomedDigests(resolved: readonly Resolved[], facts: DeletionFacts): Set<string> {
  const removedTags = new Map<string, Set<string>>();
  const doomed = new Set<string>();
  for (const { target, digest } of resolved) {
    if (target.tag === undefined) doomed.add(digest);
    else removedTags.set(digest, (removedTags.get(digest) ?? new Set()).add(target.tag));
  }
  for (const [digest, removed] of removedTags) {
    if ((facts.tagsOf.get(digest) ?? []).every((tag) => removed.has(tag))) doomed.add(digest);
  }
  return doomed;
}

/** Takes out of `doomed` every digest an index that stays still lists; returns them with that index. */
function spareReferenced(doomed: Set<string>, facts: DeletionFacts): Map<string, string> {
  const spared = new Map<string, string>();
  for (;;) {
    const blocked = [...doomed].flatMap((digest) => {
      const keeper = (facts.parentsOf.get(digest) ?? []).find((parent) => !doomed.has(parent));
      return keeper === undefined ? [] : [[digest, keeper] as const];
    });
    if (blocked.length === 0) return spared;
    for (const [digest, keeper] of blocked) {
      doomed.delete(digest);
      spared.set(digest, keeper);
    }
  }
}

export function planDeletion(targets: readonly ImageTarget[], facts: DeletionFacts): DeletionPlan {
  const failures: DeletionFailure[] = [];
  const resolved: Resolved[] = [];
  for (const target of targets) {
    const outcome = resolve(target, facts);
    if ("code" in outcome) failures.push(outcome);
    else resolved.push(outcome);
  }
  const doomed = doomedDigests(resolved, facts);
  const spared = spareReferenced(doomed, facts);

  const deleted = new Map<string, DeletedImage>();
  const tags = new Set<string>();
  const add = (digest: string, tag: string | null) => deleted.set(`${digest} ${tag ?? ""}`, { digest, tag });
  for (const { target, digest } of resolved) {
    const keeper = spared.get(digest);
    if (keeper !== undefined) {
      failures.push({
        target,
        code: "ImageReferencedByManifestList",
        reason: `Requested image referenced by manifest list: [${keeper}]`,
      });
    } else if (target.tag !== undefined) {
      add(digest, target.tag);
      if (!doomed.has(digest)) tags.add(target.tag);
    } else {
      const imageTags = facts.tagsOf.get(digest) ?? [];
      if (imageTags.length === 0) add(digest, null);
      for (const tag of imageTags) add(digest, tag);
    }
  }
  return { deleted: [...deleted.values()], failures, manifests: [...doomed], tags: [...tags] };
}
