/**
 * ECR's registry scanning configuration (PutRegistryScanningConfiguration): up to two rules,
 * each a scan frequency (SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL) for the repositories its
 * wildcard filters match, and how it combines with a repository's own `scanOnPush` flag.
 * Pure: the control plane validates and stores, the push and the advisory import ask here
 * what applies to a repository.
 */

export const SCAN_FREQUENCIES = ["SCAN_ON_PUSH", "CONTINUOUS_SCAN", "MANUAL"] as const;
export type ScanFrequency = (typeof SCAN_FREQUENCIES)[number];
export const SCAN_TYPES = ["BASIC", "ENHANCED"] as const;
export type ScanType = (typeof SCAN_TYPES)[number];

export interface ScanFilter {
  filter: string;
  filterType: "WILDCARD";
}

export interface ScanningRule {
  scanFrequency: ScanFrequency;
  repositoryFilters: ScanFilter[];
}

export interface ScanningConfiguration {
  scanType: ScanType;
  rules: ScanningRule[];
}

export const DEFAULT_SCANNING_CONFIGURATION: ScanningConfiguration = { scanType: "BASIC", rules: [] };

/** The problem with a configuration as ECR words it, or null when it is valid. */
export function scanningConfigurationProblem(configuration: ScanningConfiguration): string | null {
  if (configuration.rules.length > 2) return "rules must contain at most 2 rules";
  for (const [index, rule] of configuration.rules.entries()) {
    const at = `rules.${index + 1}`;
    if (rule.repositoryFilters.length < 1 || rule.repositoryFilters.length > 100)
      return `${at}.repositoryFilters must contain 1 to 100 filters`;
    for (const filter of rule.repositoryFilters) {
      if (!/^[a-z0-9*](?:[a-z0-9._/*-]){0,255}$/.test(filter.filter))
        return `${at}.repositoryFilters: "${filter.filter}" is not a repository name filter (lowercase letters, digits, . _ - / and *)`;
    }
  }
  return null;
}

/**
 * Whether a filter matches a repository name: with a `*`, the whole name against the pattern
 * (`*` any run of characters); without one, any name that contains the filter (ECR's rule).
 */
export function scanFilterMatches(filter: string, name: string): boolean {
  if (!filter.includes("*")) return name.includes(filter);
  const pattern = filter
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${pattern}$`).test(name);
}

export interface AppliedScanning {
  scanFrequency: ScanFrequency;
  /** Whether a push is scanned (SCAN_ON_PUSH or CONTINUOUS_SCAN, or the repository's flag). */
  scanOnPush: boolean;
  appliedScanFilters: ScanFilter[];
}

/**
 * What applies to a repository: the continuous rule when one matches (it wins over scan on
 * push, as in ECR), else the scan-on-push rule or the repository's own flag, else MANUAL.
 */
export function scanningFor(
  configuration: ScanningConfiguration,
  name: string,
  repositoryScanOnPush: boolean,
): AppliedScanning {
  const matching = (frequency: ScanFrequency) =>
    configuration.rules
      .filter((rule) => rule.scanFrequency === frequency)
      .flatMap((rule) => rule.repositoryFilters.filter((filter) => scanFilterMatches(filter.filter, name)));
  const continuous = matching("CONTINUOUS_SCAN");
  if (continuous.length > 0)
    return { scanFrequency: "CONTINUOUS_SCAN", scanOnPush: true, appliedScanFilters: continuous };
  const onPush = matching("SCAN_ON_PUSH");
  if (onPush.length > 0 || repositoryScanOnPush)
    return { scanFrequency: "SCAN_ON_PUSH", scanOnPush: true, appliedScanFilters: onPush };
  return { scanFrequency: "MANUAL", scanOnPush: false, appliedScanFilters: [] };
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? Reflect.get(value, name) : undefined;
}

/**
 * A scanning configuration from JSON (PutRegistryScanningConfiguration's members, or the stored
 * copy), checked member by member; `fail` makes the error to throw, naming the member.
 */
export function parseScanningConfiguration(value: unknown, fail: (message: string) => Error): ScanningConfiguration {
  const scanType = field(value, "scanType") ?? "BASIC";
  if (typeof scanType !== "string" || !(SCAN_TYPES as readonly string[]).includes(scanType))
    throw fail(`scanType must be one of ${SCAN_TYPES.join(", ")}`);
  const rulesValue = field(value, "rules") ?? [];
  if (!Array.isArray(rulesValue)) throw fail("rules must be a list");
  const rules = rulesValue.map((rule: unknown, index): ScanningRule => {
    const at = `rules.${index + 1}`;
    const scanFrequency = field(rule, "scanFrequency");
    if (typeof scanFrequency !== "string" || !(SCAN_FREQUENCIES as readonly string[]).includes(scanFrequency))
      throw fail(`${at}.scanFrequency must be one of ${SCAN_FREQUENCIES.join(", ")}`);
    const filters = field(rule, "repositoryFilters");
    if (!Array.isArray(filters)) throw fail(`${at}.repositoryFilters must be a list`);
    return {
      scanFrequency: scanFrequency as ScanFrequency,
      repositoryFilters: filters.map((filter: unknown, filterIndex) => {
        const text = field(filter, "filter");
        const type = field(filter, "filterType") ?? "WILDCARD";
        if (typeof text !== "string") throw fail(`${at}.repositoryFilters.${filterIndex + 1}.filter must be a string`);
        if (type !== "WILDCARD") throw fail(`${at}.repositoryFilters.${filterIndex + 1}.filterType must be WILDCARD`);
        return { filter: text, filterType: "WILDCARD" as const };
      }),
    };
  });
  const configuration: ScanningConfiguration = { scanType: scanType as ScanType, rules };
  const problem = scanningConfigurationProblem(configuration);
  if (problem !== null) throw fail(problem);
  return configuration;
}
