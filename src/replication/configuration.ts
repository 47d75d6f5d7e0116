/**
 * The registry's replication configuration (ECR's PutReplicationConfiguration): parsing and
 * validating it, and choosing the destinations of a push. Pure: no I/O, the caller stores it.
 *
 * A destination is either a regional replica of this registry (our registryId, a region whose
 * R2 bucket this deployment binds) or another registry (any other registryId). ECR's limits
 * hold: at most 10 rules, at most 100 filters per rule, at most 25 unique destinations, and a
 * destination may not be the source itself (this registry's home region).
 */
import { Input, isObject, type Invalid, type JsonObject } from "../input";

export const MAX_RULES = 10;
export const MAX_FILTERS_PER_RULE = 100;
export const MAX_UNIQUE_DESTINATIONS = 25;

export interface ReplicationDestination {
  region: string;
  registryId: string;
}

export interface RepositoryFilter {
  filter: string;
  filterType: "PREFIX_MATCH";
}

export interface ReplicationRule {
  destinations: ReplicationDestination[];
  /** Absent: every repository of the registry. */
  repositoryFilters?: RepositoryFilter[];
}

export interface ReplicationConfiguration {
  rules: ReplicationRule[];
}

/** Where the configuration is set: this registry's account and home region, and its replica regions. */
export interface ReplicationSource {
  registryId: string;
  region: string;
  replicaRegions: readonly string[];
}

const REGION = /^[0-9a-z-]{2,25}$/;
const REGISTRY_ID = /^[0-9]{12}$/;
// ECR's RepositoryFilter.filter grammar: a repository name prefix (it may end with "/" or "-").
const FILTER = /^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*\/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$/;

export const EMPTY_CONFIGURATION: ReplicationConfiguration = { rules: [] };

/**
 * Reads `replicationConfiguration` as ECR takes it; `invalid` is the caller's error (ECR:
 * ValidationException). Returns the configuration in its canonical shape (what DescribeRegistry
 * answers). `source` null reads a stored configuration: its destinations were checked against
 * the registry when it was put, and a replica region removed since then is the replication
 * run's failure to report, not a reason to refuse reading it.
 */
export function parseReplicationConfiguration(
  data: JsonObject,
  source: ReplicationSource | null,
  invalid: Invalid,
): ReplicationConfiguration {
  const input = new Input(data, invalid);
  const rules = input.list("rules", 0, MAX_RULES).map((rule, r) => parseRule(rule, `rules[${r}]`, source, invalid));
  const unique = new Set(rules.flatMap((rule) => rule.destinations.map(destinationKey)));
  if (unique.size > MAX_UNIQUE_DESTINATIONS) {
    throw invalid(
      `the replication configuration has ${unique.size} unique destinations; at most ${MAX_UNIQUE_DESTINATIONS} are allowed`,
    );
  }
  return { rules };
}

function parseRule(value: unknown, name: string, source: ReplicationSource | null, invalid: Invalid): ReplicationRule {
  if (!isObject(value)) throw invalid(`${name} must be an object`);
  const input = new Input(value, (message) => invalid(`${name}.${message}`));
  const destinations = input
    .list("destinations", 1, MAX_UNIQUE_DESTINATIONS)
    .map((destination, d) => parseDestination(destination, `${name}.destinations[${d}]`, source, invalid));
  const filters = input.optionalList("repositoryFilters", 1, MAX_FILTERS_PER_RULE);
  if (filters === undefined) return { destinations };
  const repositoryFilters = filters.map((filter, f) => parseFilter(filter, `${name}.repositoryFilters[${f}]`, invalid));
  return { destinations, repositoryFilters };
}

function parseDestination(
  value: unknown,
  name: string,
  source: ReplicationSource | null,
  invalid: Invalid,
): ReplicationDestination {
  if (!isObject(value)) throw invalid(`${name} must be an object`);
  const input = new Input(value, (message) => invalid(`${name}.${message}`));
  const region = input.string("region", { pattern: REGION });
  const registryId = input.string("registryId", { pattern: REGISTRY_ID });
  if (source !== null && registryId === source.registryId) {
    if (region === source.region) {
      throw invalid(
        `${name} is this registry's own region (${region}): a destination must be another region or registry`,
      );
    }
    if (!source.replicaRegions.includes(region)) {
      const known = source.replicaRegions.length === 0 ? "none is configured" : source.replicaRegions.join(", ");
      throw invalid(`${name}: ${region} is not a replica region of this registry (${known})`);
    }
  }
  return { region, registryId };
}

function parseFilter(value: unknown, name: string, invalid: Invalid): RepositoryFilter {
  if (!isObject(value)) throw invalid(`${name} must be an object`);
  const input = new Input(value, (message) => invalid(`${name}.${message}`));
  const filter = input.string("filter", { min: 2, max: 256, pattern: FILTER });
  input.string("filterType", { oneOf: ["PREFIX_MATCH"] });
  return { filter, filterType: "PREFIX_MATCH" };
}

function destinationKey(destination: ReplicationDestination): string {
  return `${destination.registryId}/${destination.region}`;
}

/**
 * The destinations an image pushed to `repositoryName` replicates to: every destination of
 * every rule whose filters match (a rule without filters matches every repository), once each,
 * in the order the rules give them.
 */
export function destinationsFor(
  configuration: ReplicationConfiguration,
  repositoryName: string,
): ReplicationDestination[] {
  const chosen = new Map<string, ReplicationDestination>();
  for (const rule of configuration.rules) {
    const matches =
      rule.repositoryFilters === undefined ||
      rule.repositoryFilters.some((filter) => repositoryName.startsWith(filter.filter));
    if (!matches) continue;
    for (const destination of rule.destinations) {
      const key = destinationKey(destination);
      if (!chosen.has(key)) chosen.set(key, destination);
    }
  }
  return [...chosen.values()];
}
