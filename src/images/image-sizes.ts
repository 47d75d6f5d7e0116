/**
 * ECR's imageSizeInBytes of stored images, shared by DescribeImages and the console's pages so
 * both report the same number: an image manifest's config plus layers (kept in its row at push,
 * computed from its bytes for rows written before), an index's largest child.
 */
import { imageSizeOfStored } from "../oci/manifest-format";
import { IMAGE_MANIFEST_TYPES, INDEX_TYPES } from "../oci/media-types";
import type { ManifestBodyRow } from "../storage/image-records";
import { readManifestText } from "./manifests";

/** What sizing an image needs of its row. */
export interface SizedImage {
  digest: string;
  mediaType: string;
  imageSize: number | null;
  childDigests: readonly string[];
}

/**
 * The manifests whose rows (`ManifestBodyRow`) sizing `rows` reads: every child of an index, and
 * an image manifest whose row predates the stored size (its bytes are read).
 */
export function sizeSources(rows: readonly SizedImage[]): string[] {
  const needed = rows.flatMap((row) =>
    INDEX_TYPES.has(row.mediaType) ? row.childDigests : row.imageSize === null ? [row.digest] : [],
  );
  return [...new Set(needed)];
}

/** imageSizeInBytes of a manifest row: stored at push, else computed from the bytes (older rows). */
export async function storedImageSize(blobs: R2Bucket, row: ManifestBodyRow): Promise<number | null> {
  if (row.imageSize !== null) return row.imageSize;
  if (!IMAGE_MANIFEST_TYPES.has(row.mediaType)) return null;
  const text = await readManifestText(blobs, row);
  return text === null ? null : imageSizeOfStored(text);
}

/**
 * The size of each of `rows`, given the rows `sizeSources(rows)` named (`sources`, by digest);
 * a missing child counts 0, as DescribeImages has always reported it.
 */
export async function imageSizesOf(
  blobs: R2Bucket,
  rows: readonly SizedImage[],
  sources: ReadonlyMap<string, ManifestBodyRow>,
): Promise<Map<string, number>> {
  const sizeOf = async (digest: string): Promise<number | null> => {
    const source = sources.get(digest);
    return source === undefined ? null : storedImageSize(blobs, source);
  };
  const sizes = new Map<string, number>();
  for (const row of rows) {
    if (INDEX_TYPES.has(row.mediaType)) {
      const children = await Promise.all(row.childDigests.map(sizeOf));
      sizes.set(row.digest, Math.max(0, ...children.map((size) => size ?? 0)));
    } else {
      sizes.set(row.digest, row.imageSize ?? (await sizeOf(row.digest)) ?? 0);
    }
  }
  return sizes;
}
