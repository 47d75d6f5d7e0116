/**
 * What the pages read from stored manifest and config bytes: platforms (os/architecture/
 * variant), annotations, an image's config descriptor. An index's children carry their platforms
 * in the index's descriptors; an image manifest's is in its config blob, which only the image
 * page reads (one small R2 read), never a list (one R2 read per row). Stored bytes were
 * validated at push, but are parsed here defensively: a page must render whatever a row holds.
 */
export interface Platform {
  os: string;
  architecture: string;
  variant: string | null;
}

/** A child of an index with the platform its descriptor names (null when it names none). */
export interface IndexEntry {
  digest: string;
  mediaType: string;
  size: number;
  platform: Platform | null;
  /** Buildx's attestation manifests (`vnd.docker.reference.type`): not a platform one can run. */
  attestation: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function platformOf(value: unknown): Platform | null {
  if (!isObject(value) || typeof value.os !== "string" || typeof value.architecture !== "string") return null;
  return {
    os: value.os,
    architecture: value.architecture,
    variant: typeof value.variant === "string" ? value.variant : null,
  };
}

function parsed(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** The entries of an index's bytes, in its order; null when the text is not an index. */
export function indexEntries(text: string | null): IndexEntry[] | null {
  const index = parsed(text);
  if (index === null || !Array.isArray(index.manifests)) return null;
  const descriptors: unknown[] = index.manifests;
  return descriptors.flatMap((entry) => {
    if (!isObject(entry) || typeof entry.digest !== "string") return [];
    const annotations = isObject(entry.annotations) ? entry.annotations : {};
    return [
      {
        digest: entry.digest,
        mediaType: typeof entry.mediaType === "string" ? entry.mediaType : "",
        size: typeof entry.size === "number" ? entry.size : 0,
        platform: platformOf(entry.platform),
        attestation: annotations["vnd.docker.reference.type"] !== undefined,
      },
    ];
  });
}

/** The runnable platforms an index lists (attestations and entries without a platform left out). */
export function indexPlatforms(text: string | null): Platform[] {
  return (indexEntries(text) ?? []).flatMap((entry) =>
    entry.attestation || entry.platform === null ? [] : [entry.platform],
  );
}

/** An image config's platform (its top-level os, architecture and variant). */
export function configPlatform(text: string): Platform | null {
  return platformOf(parsed(text));
}

export function platformText(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant]
    .filter((part) => part !== null && part !== "")
    .join("/");
}

/** The string annotations of a manifest's bytes (none when it has none or is not JSON). */
export function manifestAnnotations(text: string | null): [string, string][] {
  const manifest = parsed(text);
  if (manifest === null || !isObject(manifest.annotations)) return [];
  return Object.entries(manifest.annotations).flatMap(([key, value]) =>
    typeof value === "string" ? [[key, value] as [string, string]] : [],
  );
}

/** An image manifest's config descriptor, or null when the text is not an image manifest. */
export function configDescriptor(text: string | null): { digest: string; mediaType: string; size: number } | null {
  const config = parsed(text)?.config;
  if (!isObject(config) || typeof config.digest !== "string") return null;
  return {
    digest: config.digest,
    mediaType: typeof config.mediaType === "string" ? config.mediaType : "",
    size: typeof config.size === "number" ? config.size : 0,
  };
}
