/**
 * The lifecycle evaluator: a pure function from (policy, images, now) to the images to
 * expire and the rule that expires each. Preview and the scheduled run both call it, so they
 * decide the same on the same state. ECR's evaluation rules, as implemented:
 *
 *  1. All rules are evaluated against the same images, then applied in priority order
 *     (lowest rulePriority first); an image is expired by at most one rule.
 *  2. An image matching a rule's tag selection is shielded from every lower-priority rule,
 *     even when that rule's count or age criterion did not pick it.
 *  3. imageCountMoreThan sorts a rule's matching images newest first (by push time) and picks
 *     every image past countNumber; images already marked by higher rules are counted.
 *  4. sinceImagePushed picks images pushed more than countNumber days ago; sinceImagePulled
 *     images last pulled more than countNumber days ago (never pulled: push time).
 *  5. A `tagged` rule matches an image when every prefix (or every pattern, `*` = any run of
 *     characters) matches at least one of its tags; `untagged` matches images without tags;
 *     `any` matches all.
 *  6. An image referenced by an index is kept while the index is in the repository (even
 *     when the index expires in the same run: the image may expire in a later run).
 *  7. Referrers (manifests with a subject) are not selected by rules: they expire with their
 *     subject, reported under the subject's rule. A referrer whose subject is not in the
 *     repository expires once it is a day old (rulePriority null): the OCI spec lets a
 *     referrer be pushed before its subject, and ECR expires orphans within 24 hours.
 */
import { matchesTagPattern } from "../oci/grammar";
import type { LifecycleImage } from "../storage/lifecycle-records";
import type { LifecyclePolicy, LifecycleRule } from "./policy";

const DAY_MS = 24 * 60 * 60 * 1000;
/** How old a referrer without its subject must be before it expires. */
const ORPHAN_REFERRER_MS = DAY_MS;

export interface ExpiryDecision {
  digest: string;
  tags: readonly string[];
  pushedAt: number;
  /** The rule that expired the image; null for a referrer whose subject is already gone. */
  rulePriority: number | null;
  /** "rule" when a rule selected the image; "subject" when it goes with its subject. */
  reason: "rule" | "subject";
}

/** Whether the image meets the rule's tag selection (tagStatus, prefixes, patterns). */
export function matchesTagSelection(rule: LifecycleRule, tags: readonly string[]): boolean {
  const { tagStatus, tagPrefixList, tagPatternList } = rule.selection;
  if (tagStatus === "any") return true;
  if (tagStatus === "untagged") return tags.length === 0;
  if (tags.length === 0) return false;
  if (tagPrefixList !== null) return tagPrefixList.every((prefix) => tags.some((tag) => tag.startsWith(prefix)));
  return (tagPatternList ?? []).every((pattern) => tags.some((tag) => matchesTagPattern(pattern, tag)));
}

/** Newest first; ties broken by digest so the order never depends on input order. */
function newestFirst(a: LifecycleImage, b: LifecycleImage): number {
  return b.pushedAt - a.pushedAt || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);
}

/** The images the rule's count or age criterion picks among the images its tags select. */
function pickedBy(rule: LifecycleRule, matching: readonly LifecycleImage[], now: number): LifecycleImage[] {
  const { countType, countNumber } = rule.selection;
  if (countType === "imageCountMoreThan") return [...matching].sort(newestFirst).slice(countNumber);
  const cutoff = now - countNumber * DAY_MS;
  if (countType === "sinceImagePushed") return matching.filter((image) => image.pushedAt < cutoff);
  return matching.filter((image) => (image.lastPulledAt ?? image.pushedAt) < cutoff);
}

export function evaluateLifecycle(
  policy: LifecyclePolicy,
  images: readonly LifecycleImage[],
  now: number,
): ExpiryDecision[] {
  const present = new Set(images.map((image) => image.digest));
  const ruleImages = images.filter((image) => image.subject === null);

  const marked = new Map<string, number>();
  const shielded = new Set<string>();
  for (const rule of policy.rules) {
    const matching = ruleImages.filter((image) => matchesTagSelection(rule, image.tags));
    for (const image of pickedBy(rule, matching, now)) {
      if (!marked.has(image.digest) && !shielded.has(image.digest)) marked.set(image.digest, rule.rulePriority);
    }
    for (const image of matching) shielded.add(image.digest);
  }
  // An index keeps what it references while it lives, even when it expires in this run.
  for (const image of images) {
    for (const child of image.children) marked.delete(child);
  }

  const byDigest = new Map(images.map((image) => [image.digest, image]));
  const decisions: ExpiryDecision[] = [];
  for (const [digest, rulePriority] of marked) {
    const image = byDigest.get(digest)!;
    decisions.push({ digest, tags: image.tags, pushedAt: image.pushedAt, rulePriority, reason: "rule" });
  }
  // Referrers go with their subject (transitively: a signature of an SBOM of an image).
  const expired = new Map(decisions.map((decision) => [decision.digest, decision.rulePriority]));
  let changed = true;
  while (changed) {
    changed = false;
    for (const image of images) {
      if (image.subject === null || expired.has(image.digest)) continue;
      const subjectGone = !present.has(image.subject);
      if (subjectGone ? image.pushedAt > now - ORPHAN_REFERRER_MS : !expired.has(image.subject)) continue;
      const rulePriority = subjectGone ? null : expired.get(image.subject)!;
      expired.set(image.digest, rulePriority);
      decisions.push({
        digest: image.digest,
        tags: image.tags,
        pushedAt: image.pushedAt,
        rulePriority,
        reason: "subject",
      });
      changed = true;
    }
  }
  return decisions.sort((a, b) => a.pushedAt - b.pushedAt || (a.digest < b.digest ? -1 : 1));
}
