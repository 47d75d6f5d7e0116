/**
 * Copies one content-addressed object from one R2 bucket to another (the home bucket to a
 * regional replica), streaming: nothing is buffered beyond the streams' own chunks, whatever
 * the object's size.
 *
 * Up to SINGLE_PUT_MAX_BYTES the object is one `put` with the digest as R2's checksum, so R2
 * itself refuses bytes that are not the digest's. Above it the copy is an R2 multipart upload
 * of ranged reads (R2 checks no whole-object checksum for those), and the bytes are digested
 * on their way through: a copy whose digest is not the object's is aborted and nothing is
 * stored under the key.
 */
import { toHex } from "../bytes";
import type { ParsedDigest } from "../oci/grammar";
import { checksumOption } from "./upload-writer";

export const SINGLE_PUT_MAX_BYTES = 128 * 1024 * 1024;
/** Parts of a multipart copy: 64 MiB (R2 allows 5 MiB to 5 GiB, at most 10,000 parts). */
export const COPY_PART_BYTES = 64 * 1024 * 1024;

export type CopyResult =
  | { status: "copied"; bytes: number; operations: number }
  | { status: "present"; operations: number }
  | { status: "source-missing"; operations: number };

/** Where a copy switches to multipart, and the part size (tests use small ones). */
export interface CopyLimits {
  singlePutMaxBytes: number;
  partBytes: number;
}

const DEFAULT_LIMITS: CopyLimits = { singlePutMaxBytes: SINGLE_PUT_MAX_BYTES, partBytes: COPY_PART_BYTES };

/** Thrown when the bytes read do not have the object's digest (a corrupt source). */
export class CopyDigestMismatch extends Error {}

/**
 * Copies `fromKey` to `toKey` unless `toKey` is already there (a HEAD first: replicas share
 * blobs between images, and most layers are shared). `operations` counts the R2 calls made.
 */
export async function copyObject(
  from: R2Bucket,
  fromKey: string,
  to: R2Bucket,
  toKey: string,
  digest: ParsedDigest,
  limits: CopyLimits = DEFAULT_LIMITS,
): Promise<CopyResult> {
  if ((await to.head(toKey)) !== null) return { status: "present", operations: 1 };
  const head = await from.head(fromKey);
  if (head === null) return { status: "source-missing", operations: 2 };
  if (head.size <= limits.singlePutMaxBytes) {
    const source = await from.get(fromKey);
    if (source === null) return { status: "source-missing", operations: 3 };
    await to.put(toKey, source.body, checksumOption(digest));
    return { status: "copied", bytes: head.size, operations: 4 };
  }
  const operations = await copyInParts(from, fromKey, to, toKey, digest, head.size, limits.partBytes);
  return { status: "copied", bytes: head.size, operations: 2 + operations };
}

async function copyInParts(
  from: R2Bucket,
  fromKey: string,
  to: R2Bucket,
  toKey: string,
  digest: ParsedDigest,
  size: number,
  partBytes: number,
): Promise<number> {
  const upload = await to.createMultipartUpload(toKey);
  let operations = 1;
  const digesting = new crypto.DigestStream(digest.algorithm === "sha256" ? "SHA-256" : "SHA-512");
  const digestWriter = digesting.getWriter();
  try {
    const parts: R2UploadedPart[] = [];
    for (let offset = 0, partNumber = 1; offset < size; offset += partBytes, partNumber += 1) {
      const length = Math.min(partBytes, size - offset);
      const source = await from.get(fromKey, { range: { offset, length } });
      if (source === null) throw new CopyDigestMismatch(`${fromKey} disappeared during the copy`);
      // Through a FixedLengthStream (uploadPart needs a known length), digesting on the way.
      const sized = new FixedLengthStream(length);
      const piping = source.body
        .pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            async transform(chunk, controller) {
              await digestWriter.ready;
              await digestWriter.write(chunk);
              controller.enqueue(chunk);
            },
          }),
        )
        .pipeTo(sized.writable);
      const [part] = await Promise.all([upload.uploadPart(partNumber, sized.readable), piping]);
      parts.push(part);
      operations += 2;
    }
    await digestWriter.close();
    const hex = toHex(new Uint8Array(await digesting.digest));
    if (hex !== digest.hex)
      throw new CopyDigestMismatch(`${fromKey} does not have the digest ${digest.algorithm}:${digest.hex}`);
    await upload.complete(parts);
    return operations + 1;
  } catch (error) {
    await upload.abort().catch(() => undefined);
    throw error;
  }
}
