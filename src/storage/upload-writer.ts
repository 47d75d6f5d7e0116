/**
 * Streams the bytes of a blob upload session into R2 without holding the blob in memory.
 *
 * Clients send chunks of any size; R2 multipart uploads want parts of one size (>= 5 MiB)
 * but the last. The writer re-cuts the stream into `partSize` parts as bytes arrive, uploads
 * each full part (one part in flight while the next fills, so at most two parts are in
 * memory), and keeps the remainder of a request (less than a part) as a tail object that the
 * next request of the session reads back first. The digest state is carried forward with the
 * bytes, so closing the session checks the digest without reading the stored object again.
 * A session that never fills a part is written at its digest's key with one `put`.
 */
import { concatBytes } from "../bytes";
import type { ParsedDigest } from "../distribution/grammar";
import type { UploadSession } from "../repository/upload-session";
import type { BlobLocation } from "./blob-links";
import { canonicalBlobKey, uploadTailKey } from "./keys";
import { ResumableDigest } from "./resumable-digest";

export type CompleteResult = { ok: true; location: BlobLocation } | { ok: false; actualDigest: string };

export class UploadWriter {
  private readonly session: UploadSession;
  private readonly digest: ResumableDigest;
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private upload: R2MultipartUpload | null = null;
  private inflight: Promise<void> | null = null;
  private receivedNow = 0;

  private constructor(
    private readonly bucket: R2Bucket,
    session: UploadSession,
  ) {
    this.session = { ...session, partEtags: [...session.partEtags] };
    this.digest = ResumableDigest.restore(session.algorithm, session.hashState);
  }

  /** Opens a session for writing, reading back its tail (at most one part) first. */
  static async open(bucket: R2Bucket, session: UploadSession): Promise<UploadWriter> {
    const writer = new UploadWriter(bucket, session);
    if (session.tailKey !== null && session.tailLength > 0) {
      const tail = await bucket.get(session.tailKey);
      if (tail === null) throw new Error(`upload ${session.id}: tail object ${session.tailKey} is missing`);
      const bytes = new Uint8Array(await tail.arrayBuffer());
      writer.pending.push(bytes);
      writer.pendingLength = bytes.length;
    }
    return writer;
  }

  /** Bytes taken in by this writer (not counting the session's earlier bytes). */
  get received(): number {
    return this.receivedNow;
  }

  /** Total bytes of the session so far. */
  get offset(): number {
    return this.session.offset + this.receivedNow;
  }

  /** The tail object this writer's session started from; obsolete once the new state is saved. */
  get previousTailKey(): string | null {
    return this.session.tailKey;
  }

  /** Reads the whole stream into the session. */
  async append(body: ReadableStream<Uint8Array> | null): Promise<void> {
    if (body === null) return;
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await this.absorb(value);
      }
    } finally {
      reader.releaseLock();
    }
  }

  /** Stores the remainder as a new tail object and returns the session state to commit. */
  async persist(): Promise<UploadSession> {
    await this.settle();
    if (this.receivedNow === 0) return this.session;
    const offset = this.offset;
    let tailKey: string | null = null;
    if (this.pendingLength > 0) {
      tailKey = uploadTailKey(this.session.id, offset);
      await this.bucket.put(tailKey, concatBytes(this.pending, this.pendingLength));
    }
    return {
      ...this.session,
      offset,
      hashState: this.digest.save(),
      tailKey,
      tailLength: this.pendingLength,
    };
  }

  /**
   * Closes the session: checks the digest of everything received, then makes the blob object.
   * `findExisting` finds an object already stored for the digest, so a multipart upload of a
   * digest the registry holds is dropped instead of stored twice.
   */
  async complete(
    expected: ParsedDigest,
    findExisting: (digest: string) => Promise<BlobLocation | undefined>,
  ): Promise<CompleteResult> {
    await this.settle();
    const actualDigest = this.digest.digest();
    if (actualDigest !== expected.digest) return { ok: false, actualDigest };
    const size = this.offset;
    const multipart = this.multipart();
    if (multipart === null) {
      const objectKey = canonicalBlobKey(expected);
      await this.bucket.put(objectKey, concatBytes(this.pending, this.pendingLength), checksumOption(expected));
      return { ok: true, location: { size, objectKey } };
    }
    const existing = await findExisting(expected.digest);
    if (existing !== undefined) {
      await multipart.abort();
      return { ok: true, location: existing };
    }
    if (this.pendingLength > 0) await this.uploadPart(concatBytes(this.pending, this.pendingLength));
    await this.settle();
    await multipart.complete(this.session.partEtags.map((etag, index) => ({ partNumber: index + 1, etag })));
    return { ok: true, location: { size, objectKey: this.session.objectKey } };
  }

  private async absorb(chunk: Uint8Array): Promise<void> {
    this.digest.update(chunk);
    this.receivedNow += chunk.length;
    let rest = chunk;
    while (rest.length > 0) {
      const room = this.session.partSize - this.pendingLength;
      if (rest.length < room) {
        this.pending.push(rest);
        this.pendingLength += rest.length;
        return;
      }
      this.pending.push(rest.subarray(0, room));
      this.pendingLength += room;
      rest = rest.subarray(room);
      const part = concatBytes(this.pending, this.pendingLength);
      this.pending = [];
      this.pendingLength = 0;
      await this.uploadPart(part);
    }
  }

  /** Starts uploading the next part once the previous one has finished. */
  private async uploadPart(part: Uint8Array): Promise<void> {
    await this.settle();
    const upload = this.multipart() ?? (await this.createMultipart());
    const index = this.session.partEtags.length;
    this.session.partEtags.push("");
    this.inflight = upload.uploadPart(index + 1, part).then((uploaded) => {
      this.session.partEtags[index] = uploaded.etag;
    });
    // Keep a rejection from going unhandled while the next part fills; settle() rethrows it.
    this.inflight.catch(() => undefined);
  }

  private async settle(): Promise<void> {
    const inflight = this.inflight;
    this.inflight = null;
    if (inflight) await inflight;
  }

  private multipart(): R2MultipartUpload | null {
    if (this.upload) return this.upload;
    if (this.session.multipartId === null) return null;
    this.upload = this.bucket.resumeMultipartUpload(this.session.objectKey, this.session.multipartId);
    return this.upload;
  }

  private async createMultipart(): Promise<R2MultipartUpload> {
    this.upload = await this.bucket.createMultipartUpload(this.session.objectKey);
    this.session.multipartId = this.upload.uploadId;
    return this.upload;
  }
}

/** Frees what an abandoned or cancelled session holds in R2. */
export async function discardUploadStorage(bucket: R2Bucket, session: UploadSession): Promise<void> {
  if (session.multipartId !== null) {
    try {
      await bucket.resumeMultipartUpload(session.objectKey, session.multipartId).abort();
    } catch {
      // Already completed or aborted: nothing left to free.
    }
  }
  if (session.tailKey !== null) await bucket.delete(session.tailKey);
}

/** R2 verifies the bytes against the digest and stores nothing on a mismatch. */
export function checksumOption(digest: ParsedDigest): R2PutOptions {
  return digest.algorithm === "sha256" ? { sha256: digest.hex } : { sha512: digest.hex };
}

