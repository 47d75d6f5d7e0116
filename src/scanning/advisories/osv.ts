/**
 * OSV advisories (https://ossf.github.io/osv-schema/), the format the scanner's vulnerability
 * data arrives in, and parseOsv, which checks a record at the boundary: everything past it can
 * trust the types. The types mirror the JSON: an optional field is absent (undefined) when the
 * record leaves it out or writes null, except that absent lists read as empty ones. Credits,
 * which this registry does not use, are not kept.
 *
 * The schema grows by minor versions that add values, so a severity or range of a type this
 * module does not know is skipped, not refused: a value added later must not drop the advisory.
 * A record whose known fields have the wrong shape is refused with an OsvFormatError.
 */

/** An object whose contents the schema leaves to the database or ecosystem. */
export type OsvJsonObject = Readonly<Record<string, unknown>>;

export type OsvSeverityType = "CVSS_V2" | "CVSS_V3" | "CVSS_V4" | "Ubuntu";

export interface OsvSeverity {
  type: OsvSeverityType;
  /** A CVSS vector for the CVSS types; Ubuntu's priority word (`"high"`) for Ubuntu. */
  score: string;
}

export interface OsvPackage {
  /** `Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.19`, `npm`, `PyPI`, `Go`, `Maven`, ... */
  ecosystem: string;
  name: string;
  purl?: string;
}

/** One point of a range's timeline; each event has exactly one of the four fields. */
export type OsvEvent = { introduced: string } | { fixed: string } | { last_affected: string } | { limit: string };

export type OsvRangeType = "ECOSYSTEM" | "SEMVER" | "GIT";

export interface OsvRange {
  type: OsvRangeType;
  repo?: string;
  events: OsvEvent[];
  database_specific?: OsvJsonObject;
}

export interface OsvAffected {
  /** Absent only in records that identify the code by GIT ranges alone. */
  package?: OsvPackage;
  severity: OsvSeverity[];
  ranges: OsvRange[];
  versions: string[];
  ecosystem_specific?: OsvJsonObject;
  database_specific?: OsvJsonObject;
}

export interface OsvReference {
  /** ADVISORY, ARTICLE, DETECTION, DISCUSSION, REPORT, FIX, INTRODUCED, GIT, PACKAGE, EVIDENCE, WEB. */
  type: string;
  url: string;
}

export interface OsvAdvisory {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases: string[];
  upstream: string[];
  related: string[];
  summary?: string;
  details?: string;
  severity: OsvSeverity[];
  affected: OsvAffected[];
  references: OsvReference[];
  database_specific?: OsvJsonObject;
}

/** A record that is not OSV; `field` is the path of the offending field (`affected[0].ranges`). */
export class OsvFormatError extends Error {
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`OSV record: ${field} ${problem}`);
    this.name = "OsvFormatError";
    this.field = field;
  }
}

const SEVERITY_TYPES: ReadonlySet<string> = new Set<OsvSeverityType>(["CVSS_V2", "CVSS_V3", "CVSS_V4", "Ubuntu"]);
const RANGE_TYPES: ReadonlySet<string> = new Set<OsvRangeType>(["ECOSYSTEM", "SEMVER", "GIT"]);
const EVENT_KINDS = ["introduced", "fixed", "last_affected", "limit"] as const;

const isSeverityType = (type: string): type is OsvSeverityType => SEVERITY_TYPES.has(type);
const isRangeType = (type: string): type is OsvRangeType => RANGE_TYPES.has(type);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Absent: missing or JSON null, which some producers write for an empty optional field. */
const absent = (value: unknown): value is null | undefined => value === undefined || value === null;

function record(value: unknown, field: string): Record<string, unknown> {
  if (!isRecord(value)) throw new OsvFormatError(field, "must be an object");
  return value;
}

function string(value: unknown, field: string): string {
  if (typeof value !== "string") throw new OsvFormatError(field, "must be a string");
  return value;
}

const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * An RFC 3339 time, as UTC ISO 8601 (`2024-01-15T10:00:00.000Z`): the store compares
 * `modified` as text, so every record's must be written the same way.
 */
function timestamp(value: unknown, field: string): string {
  const text = string(value, field);
  const time = RFC_3339.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) throw new OsvFormatError(field, "must be an RFC 3339 time");
  return new Date(time).toISOString();
}

function optionalString(value: unknown, field: string): string | undefined {
  return absent(value) ? undefined : string(value, field);
}

function optionalObject(value: unknown, field: string): OsvJsonObject | undefined {
  // A copy: the advisory owns its data, and Object.fromEntries never touches a prototype.
  return absent(value) ? undefined : Object.fromEntries(Object.entries(record(value, field)));
}

/** The items of an optional array, each read by `item` (null: skipped). */
function list<T>(value: unknown, field: string, item: (value: unknown, field: string) => T | null): T[] {
  if (absent(value)) return [];
  if (!Array.isArray(value)) throw new OsvFormatError(field, "must be an array");
  const entries: readonly unknown[] = value;
  const items: T[] = [];
  entries.forEach((entry, index) => {
    const parsed = item(entry, `${field}[${index}]`);
    if (parsed !== null) items.push(parsed);
  });
  return items;
}

const strings = (value: unknown, field: string): string[] => list(value, field, string);

function severity(value: unknown, field: string): OsvSeverity | null {
  const entry = record(value, field);
  const type = string(entry.type, `${field}.type`);
  const score = string(entry.score, `${field}.score`);
  return isSeverityType(type) ? { type, score } : null;
}

function event(value: unknown, field: string): OsvEvent {
  const entry = record(value, field);
  const kinds = EVENT_KINDS.filter((kind) => !absent(entry[kind]));
  const [kind] = kinds;
  if (kind === undefined || kinds.length > 1) {
    throw new OsvFormatError(field, "must have exactly one of introduced, fixed, last_affected, limit");
  }
  const version = string(entry[kind], `${field}.${kind}`);
  switch (kind) {
    case "introduced":
      return { introduced: version };
    case "fixed":
      return { fixed: version };
    case "last_affected":
      return { last_affected: version };
    case "limit":
      return { limit: version };
  }
}

function range(value: unknown, field: string): OsvRange | null {
  const entry = record(value, field);
  const type = string(entry.type, `${field}.type`);
  if (absent(entry.events)) throw new OsvFormatError(`${field}.events`, "is required");
  const events = list(entry.events, `${field}.events`, event);
  if (!isRangeType(type)) return null;
  return {
    type,
    repo: optionalString(entry.repo, `${field}.repo`),
    events,
    database_specific: optionalObject(entry.database_specific, `${field}.database_specific`),
  };
}

function affectedPackage(value: unknown, field: string): OsvPackage | undefined {
  if (absent(value)) return undefined;
  const entry = record(value, field);
  return {
    ecosystem: string(entry.ecosystem, `${field}.ecosystem`),
    name: string(entry.name, `${field}.name`),
    purl: optionalString(entry.purl, `${field}.purl`),
  };
}

function affected(value: unknown, field: string): OsvAffected {
  const entry = record(value, field);
  return {
    package: affectedPackage(entry.package, `${field}.package`),
    severity: list(entry.severity, `${field}.severity`, severity),
    ranges: list(entry.ranges, `${field}.ranges`, range),
    versions: strings(entry.versions, `${field}.versions`),
    ecosystem_specific: optionalObject(entry.ecosystem_specific, `${field}.ecosystem_specific`),
    database_specific: optionalObject(entry.database_specific, `${field}.database_specific`),
  };
}

function reference(value: unknown, field: string): OsvReference {
  const entry = record(value, field);
  return { type: string(entry.type, `${field}.type`), url: string(entry.url, `${field}.url`) };
}

/** Checks a parsed JSON value as an OSV record; throws OsvFormatError naming the bad field. */
export function parseOsv(json: unknown): OsvAdvisory {
  const entry = record(json, "the record");
  const id = string(entry.id, "id");
  if (id === "") throw new OsvFormatError("id", "must not be empty");
  return {
    schema_version: optionalString(entry.schema_version, "schema_version"),
    id,
    modified: timestamp(entry.modified, "modified"),
    published: optionalString(entry.published, "published"),
    withdrawn: optionalString(entry.withdrawn, "withdrawn"),
    aliases: strings(entry.aliases, "aliases"),
    upstream: strings(entry.upstream, "upstream"),
    related: strings(entry.related, "related"),
    summary: optionalString(entry.summary, "summary"),
    details: optionalString(entry.details, "details"),
    severity: list(entry.severity, "severity", severity),
    affected: list(entry.affected, "affected", affected),
    references: list(entry.references, "references", reference),
    database_specific: optionalObject(entry.database_specific, "database_specific"),
  };
}
