/**
 * The ECR severity of a finding (FindingSeverity, as ECR's basic scanning reports it) from an
 * OSV advisory. Sources, best first: a CVSS v3 vector's base score, a CVSS v2 vector's, then
 * the severity words databases attach (GitHub's `database_specific.severity`, a package's
 * `ecosystem_specific` or `database_specific` severity, Ubuntu's priority). CVSS v4 vectors
 * are not scored (see cvss.ts): a record with only a v4 vector takes its database's word.
 * A package's own severity entries come before the record's, which OSV allows only one of.
 */
import { cvssScore, cvssVersion } from "./cvss";
import type { OsvAdvisory, OsvAffected, OsvSeverity } from "./osv";

export { cvssScore } from "./cvss";

export type FindingSeverity = "INFORMATIONAL" | "LOW" | "MEDIUM" | "HIGH" | "CRITICAL" | "UNDEFINED";

/** CVSS v3's qualitative ratings, with None reported as ECR reports it: INFORMATIONAL. */
function fromV3Score(score: number): FindingSeverity {
  if (score === 0) return "INFORMATIONAL";
  if (score < 4) return "LOW";
  if (score < 7) return "MEDIUM";
  return score < 9 ? "HIGH" : "CRITICAL";
}

/** CVSS v2 (as NVD rates it) has no None or Critical. */
function fromV2Score(score: number): FindingSeverity {
  if (score < 4) return "LOW";
  return score < 7 ? "MEDIUM" : "HIGH";
}

/**
 * The words databases use: GitHub's MODERATE, Red Hat's important, Ubuntu's negligible,
 * Debian's unimportant. Others (`untriaged`, `unknown`) say nothing.
 */
const WORDS: ReadonlyMap<string, FindingSeverity> = new Map([
  ["critical", "CRITICAL"],
  ["high", "HIGH"],
  ["important", "HIGH"],
  ["medium", "MEDIUM"],
  ["moderate", "MEDIUM"],
  ["low", "LOW"],
  ["negligible", "INFORMATIONAL"],
  ["unimportant", "INFORMATIONAL"],
  ["informational", "INFORMATIONAL"],
  ["none", "INFORMATIONAL"],
]);

function fromWord(value: unknown): FindingSeverity | null {
  return typeof value === "string" ? (WORDS.get(value.trim().toLowerCase()) ?? null) : null;
}

/** The first CVSS entry of the given major version that scores, mapped to a severity. */
function fromCvss(
  entries: OsvSeverity[],
  version: 2 | 3,
  rate: (score: number) => FindingSeverity,
): FindingSeverity | null {
  for (const entry of entries) {
    if (!entry.type.startsWith("CVSS_") || cvssVersion(entry.score) !== version) continue;
    const score = cvssScore(entry.score);
    if (score !== null) return rate(score);
  }
  return null;
}

function fromUbuntu(entries: OsvSeverity[]): FindingSeverity | null {
  for (const entry of entries) {
    const severity = entry.type === "Ubuntu" ? fromWord(entry.score) : null;
    if (severity !== null) return severity;
  }
  return null;
}

/**
 * The severity of a finding of `advisory`; `affected`, the entry that matched the package,
 * adds that package's own severity data. UNDEFINED when the record rates nothing.
 */
export function severityOf(advisory: OsvAdvisory, affected?: OsvAffected): FindingSeverity {
  const entries = [...(affected?.severity ?? []), ...advisory.severity];
  return (
    fromCvss(entries, 3, fromV3Score) ??
    fromCvss(entries, 2, fromV2Score) ??
    fromWord(advisory.database_specific?.severity) ??
    fromWord(affected?.ecosystem_specific?.severity) ??
    fromWord(affected?.database_specific?.severity) ??
    fromUbuntu(entries) ??
    "UNDEFINED"
  );
}
