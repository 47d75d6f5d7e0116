/**
 * CVSS base scores from vector strings, for the severity of a finding: OSV carries CVSS as
 * vectors (`CVSS:3.1/AV:N/AC:L/...`, `AV:N/AC:L/Au:N/...`), never as numbers. Versions 3.0 and
 * 3.1 use the v3.1 specification's formula (its Roundup avoids the floating-point error of
 * v3.0's naive ceiling but is meant to give the same results); version 2 uses the v2 guide's.
 * CVSS v4 scores come from a lookup over its macro-vectors, not a formula; they are not
 * computed here (null), and callers fall back to the advisory's own severity.
 */

/** The metrics of a vector, or null when a metric repeats or a part is not `KEY:VALUE`. */
function metricsOf(parts: string[]): Map<string, string> | null {
  const metrics = new Map<string, string>();
  for (const part of parts) {
    const [key, value, extra] = part.split(":");
    if (!key || !value || extra !== undefined || metrics.has(key)) return null;
    metrics.set(key, value);
  }
  return metrics;
}

/** The weight of each base metric's value; temporal and environmental metrics are ignored. */
function weigh(
  metrics: Map<string, string>,
  weights: Record<string, Record<string, number>>,
): Record<string, number> | null {
  const result: Record<string, number> = {};
  for (const [metric, values] of Object.entries(weights)) {
    const value = metrics.get(metric);
    const weight = value === undefined ? undefined : values[value];
    if (weight === undefined) return null;
    result[metric] = weight;
  }
  return result;
}

const V3_WEIGHTS: Record<string, Record<string, number>> = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  // Privileges Required weighs more when the scope changes; see v3Score.
  PR: { N: 0.85, L: 0.62, H: 0.27 },
  UI: { N: 0.85, R: 0.62 },
  S: { U: 0, C: 1 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
};

/** CVSS v3.1's Roundup: the smallest one-decimal number not below the input. */
function roundUp(value: number): number {
  const integer = Math.round(value * 100_000);
  return integer % 10_000 === 0 ? integer / 100_000 : (Math.floor(integer / 10_000) + 1) / 10;
}

function v3Score(metrics: Map<string, string>): number | null {
  const w = weigh(metrics, V3_WEIGHTS);
  if (w === null) return null;
  const { AV = 0, AC = 0, UI = 0, C = 0, I = 0, A = 0 } = w;
  const changed = w.S === 1;
  const pr = metrics.get("PR");
  const PR = changed && pr === "L" ? 0.68 : changed && pr === "H" ? 0.5 : (w.PR ?? 0);
  const iss = 1 - (1 - C) * (1 - I) * (1 - A);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
  const exploitability = 8.22 * AV * AC * PR * UI;
  if (impact <= 0) return 0;
  return roundUp(Math.min((changed ? 1.08 : 1) * (impact + exploitability), 10));
}

const V2_WEIGHTS: Record<string, Record<string, number>> = {
  AV: { L: 0.395, A: 0.646, N: 1 },
  AC: { H: 0.35, M: 0.61, L: 0.71 },
  Au: { M: 0.45, S: 0.56, N: 0.704 },
  C: { N: 0, P: 0.275, C: 0.66 },
  I: { N: 0, P: 0.275, C: 0.66 },
  A: { N: 0, P: 0.275, C: 0.66 },
};

function v2Score(metrics: Map<string, string>): number | null {
  const w = weigh(metrics, V2_WEIGHTS);
  if (w === null) return null;
  const { AV = 0, AC = 0, Au = 0, C = 0, I = 0, A = 0 } = w;
  const impact = 10.41 * (1 - (1 - C) * (1 - I) * (1 - A));
  const exploitability = 20 * AV * AC * Au;
  const base = (0.6 * impact + 0.4 * exploitability - 1.5) * (impact === 0 ? 0 : 1.176);
  // Round half up to one decimal; the epsilon absorbs binary error such as 7.4499999.
  return Math.max(0, Math.round(base * 10 + 1e-9) / 10);
}

/** The CVSS major version a vector is written in: 2, 3 or 4; null when it is none of them. */
export function cvssVersion(vector: string): 2 | 3 | 4 | null {
  if (/^CVSS:3\.[01]\//.test(vector)) return 3;
  if (vector.startsWith("CVSS:4.0/")) return 4;
  return /^\(?AV:[LAN]\/AC:[HML]\/Au:[MSN]\//.test(vector) ? 2 : null;
}

/**
 * The base score (0.0–10.0) of a CVSS v3.0/v3.1 or v2 vector; null for a CVSS v4 vector and
 * for anything malformed (a missing or repeated base metric, an unknown value).
 */
export function cvssScore(vector: string): number | null {
  const version = cvssVersion(vector);
  if (version === 3) {
    const metrics = metricsOf(vector.split("/").slice(1));
    return metrics === null ? null : v3Score(metrics);
  }
  if (version === 2) {
    const metrics = metricsOf(vector.replace(/^\((.*)\)$/, "$1").split("/"));
    return metrics === null ? null : v2Score(metrics);
  }
  return null;
}
