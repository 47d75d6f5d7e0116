/**
 * Splits a `/v2/...` path into the resource it names. Repository names may have any number of
 * `/`-separated components, so the resource is recognised from the end of the path, the way
 * the CNCF registry's router does. Pure.
 */

export type DistributionRoute =
  | { kind: "upload-start"; name: string }
  | { kind: "upload"; name: string; id: string }
  | { kind: "blob"; name: string; digest: string }
  | { kind: "manifest"; name: string; reference: string }
  | { kind: "tags"; name: string }
  | { kind: "referrers"; name: string; digest: string };

const ROUTES: ReadonlyArray<[RegExp, (match: RegExpExecArray) => DistributionRoute]> = [
  [/^(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: "upload-start", name: m[1]! })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: "upload", name: m[1]!, id: decode(m[2]!) })],
  [/^(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: "blob", name: m[1]!, digest: decode(m[2]!) })],
  [/^(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: "manifest", name: m[1]!, reference: decode(m[2]!) })],
  [/^(.+)\/tags\/list$/, (m) => ({ kind: "tags", name: m[1]! })],
  [/^(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: "referrers", name: m[1]!, digest: decode(m[2]!) })],
];

/** `path` is the URL path after `/v2/`, still percent-encoded. */
export function parseDistributionPath(path: string): DistributionRoute | null {
  for (const [pattern, build] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return build(match);
  }
  return null;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
