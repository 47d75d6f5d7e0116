/**
 * Findings: each package of an image's inventory against the advisories that name it. The
 * lookup is one D1 query per ecosystem (the advisory store's package index); the matching is
 * pure (`evaluateFindings`): the advisory's affected entry must name the package in the
 * image's ecosystem (`Debian:12`, `npm`, ...) and its ranges or version list must hold the
 * installed version. Severity comes from the advisory (./advisories/severity.ts).
 */
import type { Database } from "../storage/database";
import { findAdvisoriesFor } from "../storage/advisory-records";
import type { StoredFinding } from "../storage/scan-records";
import { affectedVersion, packageMatches } from "./advisories/match";
import { OsvFormatError, parseOsv, type OsvAdvisory, type OsvAffected } from "./advisories/osv";
import { severityOf, type FindingSeverity } from "./advisories/severity";
import { matchingEcosystem, type ImageInventory } from "./merge";

export const SEVERITIES: readonly FindingSeverity[] = [
  "CRITICAL",
  "HIGH",
  "MEDIUM",
  "LOW",
  "INFORMATIONAL",
  "UNDEFINED",
];

/** The ecosystem family the package index files a name under (`Debian:12` → `Debian`). */
export function ecosystemFamily(ecosystem: string): string {
  return ecosystem.split(":")[0] ?? ecosystem;
}

/** A package name as the index compares it: PyPI's normalized (PEP 503), others as written. */
export function indexName(family: string, name: string): string {
  return family === "PyPI" ? name.toLowerCase().replace(/[-_.]+/g, "-") : name;
}

/** The name ECR users expect: the CVE the advisory is about when it names exactly one, else its id. */
function findingName(advisory: OsvAdvisory): string {
  const cves = [...new Set([...advisory.aliases, ...advisory.upstream].filter((id) => id.startsWith("CVE-")))];
  return advisory.id.startsWith("CVE-") ? advisory.id : cves.length === 1 ? cves[0]! : advisory.id;
}

export interface Findings {
  findings: StoredFinding[];
  severityCounts: Record<string, number>;
}

/** The key the advisories are indexed by, and packages looked up with: ecosystem family and name. */
function packageKey(ecosystem: string, name: string): string {
  const family = ecosystemFamily(ecosystem);
  return `${family}\u0000${indexName(family, name)}`;
}

/** The findings of an inventory against advisories (pure). */
export function evaluateFindings(inventory: ImageInventory, advisories: readonly OsvAdvisory[]): Findings {
  // Each package is checked against the entries naming it, not against every advisory.
  const entries = new Map<string, { advisory: OsvAdvisory; affected: OsvAffected }[]>();
  for (const advisory of advisories) {
    if (advisory.withdrawn !== undefined) continue;
    for (const affected of advisory.affected) {
      if (affected.package === undefined) continue;
      const key = packageKey(affected.package.ecosystem, affected.package.name);
      entries.set(key, [...(entries.get(key) ?? []), { advisory, affected }]);
    }
  }
  const findings = new Map<string, StoredFinding>();
  for (const pkg of inventory.packages) {
    const ecosystem = matchingEcosystem(pkg, inventory.os);
    for (const { advisory, affected } of entries.get(packageKey(pkg.ecosystem, pkg.name)) ?? []) {
      if (!packageMatches(affected, ecosystem, pkg.name)) continue;
      const result = affectedVersion(affected, pkg.version);
      if (!result.affected) continue;
      const name = findingName(advisory);
      const key = `${name}\u0000${pkg.name}\u0000${pkg.version}`;
      if (findings.has(key)) continue;
      const severity = severityOf(advisory, affected);
      findings.set(key, {
        advisoryId: name,
        packageName: pkg.name,
        packageVersion: pkg.version,
        fixedVersion: result.fixedVersion,
        severity,
        severityRank: SEVERITIES.indexOf(severity),
        description: (advisory.summary ?? advisory.details ?? null)?.slice(0, 1024) ?? null,
        uri: `https://osv.dev/vulnerability/${advisory.id}`,
        attributes: [
          { key: "package_name", value: pkg.name },
          { key: "package_version", value: pkg.version },
          ...(result.fixedVersion === null ? [] : [{ key: "fixed_version", value: result.fixedVersion }]),
          ...(pkg.binaryName === undefined ? [] : [{ key: "binary_package_name", value: pkg.binaryName }]),
          { key: "package_path", value: pkg.path },
          { key: "advisory_id", value: advisory.id },
        ].map((attribute) => ({ key: attribute.key, value: attribute.value.slice(0, 256) })),
      });
    }
  }
  const severityCounts: Record<string, number> = {};
  for (const finding of findings.values())
    severityCounts[finding.severity] = (severityCounts[finding.severity] ?? 0) + 1;
  return { findings: [...findings.values()], severityCounts };
}

/** The findings of an inventory against the advisory store. */
export async function findingsFor(db: Database, inventory: ImageInventory): Promise<Findings> {
  const byFamily = new Map<string, Set<string>>();
  for (const pkg of inventory.packages) {
    const family = ecosystemFamily(pkg.ecosystem);
    const names = byFamily.get(family) ?? new Set<string>();
    names.add(indexName(family, pkg.name));
    byFamily.set(family, names);
  }
  const advisories = new Map<string, OsvAdvisory>();
  for (const [family, names] of byFamily) {
    for (const row of await findAdvisoriesFor(db, family, [...names])) {
      if (advisories.has(row.id)) continue;
      try {
        advisories.set(row.id, parseOsv(JSON.parse(row.document)));
      } catch (error) {
        // Checked when imported; one unreadable record must not fail every scan.
        if (!(error instanceof OsvFormatError || error instanceof SyntaxError)) throw error;
        console.error(`scanning: stored advisory ${row.id} does not parse`, error);
      }
    }
  }
  return evaluateFindings(inventory, [...advisories.values()]);
}
