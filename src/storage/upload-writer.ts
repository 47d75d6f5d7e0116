/**
 * Streams the bytes of a blob upload session into R2 without holding the blob in memory.
 *
 * A session's first chunk (the usual single-PATCH push of docker, skopeo and containerd) is
 * written as one object at the session's key while it is hashed natively
 * (crypto.DigestStream): with one `put` when its length is known or it is shorter than a part,
 * else through a multipart upload completed at the end of the request.
 * Later chunks go into an R2 multipart
 * upload: clients send chunks of any size, R2 wants parts of one size (>= 5 MiB) but the
 * last, so the writer re-cuts the stream into `partSize` parts as bytes arrive, uploads each
 * full part (two in flight while the next fills, so at most three parts are in memory), and
 * keeps the remainder of a request (less than a part) as a tail object that the next request
 * reads back first. A session that outgrows its whole first object replays that object into
 * the multipart upload once.
 *
 * The digest state is carried forward with the bytes, so closing the session checks the
 * digest without reading the stored object again. A session that never fills a part is
 * written at its digest's key with one `put`.
 *
 * A writer holds its session (`SessionHold`) and keeps the hold alive as bytes come in. Every
 * object it creates is named after its hold, and the part numbers it writes into a multipart
 * upload it did not create are reserved for it, so a writer that lost its hold cannot
 * overwrite another's bytes. What it created is discarded if its state is not committed, and
 * what the committed state no longer needs is deleted only after the commit.
 */
import { concatBytes, readChunks, toHex, type BodyReading } from "../bytes";
import type { DigestAlgorithm, ParsedDigest } from "../oci/grammar";
import type { BodyTimeout } from "../request-body";
import type { BlobLocation } from "./blob-links";
import { assembledBlobKey, canonicalBlobKey, uploadPrefix, uploadTailKey } from "./keys";
import { ResumableDigest } from "./resumable-digest";

/**
 * State of one blob upload session, kept by the repository's Durable Object
 * (src/repository/upload-session.ts) and advanced by the writer.
 */
export interface UploadSession {
  id: string;
  repository: string;
  createdAt: number;
  /** Bytes received and durably stored (multipart parts plus tail object). */
  offset: number;
  algorithm: DigestAlgorithm;
  /** Saved hasher state over bytes [0, offset) when layout is "parts". */
  hashState: string;
  /**
   * With layout "whole": the digest of the whole object, computed natively as it was stored
   * (a native digest cannot be resumed; a session that grows replays the object instead).
   */
  wholeDigest: string | null;
  partSize: number;
  /**
   * How bytes [0, offset) are stored: "parts" as multipart parts plus a tail object, or
   * "whole" as one complete object at `objectKey` (a first chunk of known length).
   */
  layout: "parts" | "whole";
  /** R2 key the session's blob is written to (whole object or multipart upload). */
  objectKey: string;
  multipartId: string | null;
  /** ETags of the uploaded parts, in order. */
  partEtags: string[];
  /**
   * Part numbers of those parts (ascending, with gaps where a writer's reservation went
   * unused). Sessions saved before numbers were reserved lack it: theirs are 1..n.
   */
  partNumbers: number[];
  /** R2 key of the bytes past the last full part, or null when there are none. */
  tailKey: string | null;
  tailLength: number;
}

/** Size of the reads from a request body, and so of the writes into storage and the digest. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Parts uploading at once while the next fills: bounds memory to (this + 1) parts. */
const PARTS_IN_FLIGHT = 2;

/**
 * The blob's location, and what became obsolete with it (to delete once the session is closed:
 * until then the session's state may still name them).
 */
export type CompleteResult =
  { ok: true; location: BlobLocation; obsolete: () => Promise<void> } | { ok: false; actualDigest: string };

/** A writer's hold on its session (a lease in the repository's Durable Object). */
export interface SessionHold {
  /** Unique to this hold: names every object the writer creates. */
  readonly writer: string;
  /** Renews the hold when a renewal is due (or now, with `force`); throws when it was lost. */
  keepAlive(force?: boolean): Promise<void>;
  /** Reserves part numbers for this writer in the session's multipart upload; throws when the hold was lost. */
  reserveParts(count: number): Promise<{ from: number; through: number }>;
}

/** Part numbers a writer reserves at a time in a multipart upload it did not create. */
const PARTS_PER_RESERVATION = 4;

/** Bounds on what one request may add to a session. */
export interface WriterLimits {
  /** The largest a session may grow to (BLOB_MAX_BYTES). */
  readonly maxBytes: number;
  /** The error that ends a request whose bytes would take the session past `maxBytes`. */
  tooLarge(): Error;
  /** Ends a request body that stops arriving. */
  readonly timeout: BodyTimeout;
}

export class UploadWriter {
  private readonly session: UploadSession;
  private readonly digest: ResumableDigest;
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private upload: R2MultipartUpload | null = null;
  /** True when this writer created `upload` (its part numbers are then its own to choose). */
  private ownUpload = false;
  private reserved: { next: number; through: number } | null = null;
  private inflight: Promise<void>[] = [];
  private receivedNow = 0;
  /** Objects this writer stored, to discard if its state is not committed. */
  private readonly created = new Set<string>();
  /** A whole first object this writer replayed into a multipart upload: obsolete once committed. */
  private replaced: string | null = null;

  private constructor(
    private readonly bucket: R2Bucket,
    private readonly original: UploadSession,
    private readonly limits: WriterLimits,
    private readonly hold: SessionHold,
  ) {
    this.session = { ...original, partEtags: [...original.partEtags], partNumbers: [...original.partNumbers] };
    this.digest = ResumableDigest.restore(original.algorithm, original.hashState);
  }

  /** Opens a session for writing, reading back its tail (at most one part) first. */
  static async open(
    bucket: R2Bucket,
    session: UploadSession,
    limits: WriterLimits,
    hold: SessionHold,
  ): Promise<UploadWriter> {
    const writer = new UploadWriter(bucket, session, limits, hold);
    if (session.layout === "parts" && session.tailKey !== null && session.tailLength > 0) {
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

  /** True when this request may store its bytes as the session's one whole object. */
  canStoreWhole(): boolean {
    return this.session.offset === 0 && this.receivedNow === 0 && this.session.layout === "parts";
  }

  /**
   * Stores a first chunk of known length as one object at this writer's key, digesting it
   * natively on the way (both writes wait for room, so memory stays bounded). Returns the
   * number of bytes the body really had; on a mismatch nothing is kept.
   */
  async storeWhole(body: ReadableStream<Uint8Array>, length: number): Promise<number> {
    if (length > this.limits.maxBytes) throw this.limits.tooLarge();
    const digesting = new crypto.DigestStream(this.session.algorithm === "sha256" ? "SHA-256" : "SHA-512");
    const objectKey = this.ownObjectKey();
    const received = await storeExactly(this.bucket, objectKey, body, length, {}, this.reading(), digesting);
    if (received !== length) return received;
    this.created.add(objectKey);
    this.session.objectKey = objectKey;
    this.receivedNow = length;
    this.session.layout = "whole";
    this.session.wholeDigest = `${this.session.algorithm}:${toHex(new Uint8Array(await digesting.digest))}`;
    return received;
  }

  /**
   * Stores a first chunk of unknown length (skopeo, docker and containerd stream a layer they
   * compress on the fly) as the session's one whole object, digesting it natively on the way:
   * a body shorter than a part becomes one `put`, a longer one goes through a multipart upload
   * that is completed at the end of the request. Returns the number of bytes stored.
   */
  async storeStreamed(body: ReadableStream<Uint8Array>): Promise<number> {
    const digesting = new crypto.DigestStream(this.session.algorithm === "sha256" ? "SHA-256" : "SHA-512");
    const digest = digesting.getWriter();
    this.session.objectKey = this.ownObjectKey();
    let received = 0;
    try {
      for await (const chunk of readChunks(body, READ_CHUNK_BYTES, this.reading())) {
        received += chunk.length;
        if (received > this.limits.maxBytes) throw this.limits.tooLarge();
        await digest.ready;
        digest.write(chunk).catch(() => undefined);
        await this.cut(chunk);
      }
      await digest.close();
      if (received === 0) {
        this.session.objectKey = this.original.objectKey;
        return 0;
      }
      const multipart = this.multipart();
      if (multipart === null) {
        await this.bucket.put(this.session.objectKey, concatBytes(this.pending, this.pendingLength));
      } else {
        if (this.pendingLength > 0) await this.uploadPart(concatBytes(this.pending, this.pendingLength));
        await this.settle();
        await multipart.complete(this.partList());
      }
      this.created.add(this.session.objectKey);
    } catch (error) {
      // Nothing of this request is kept: the session stays as it was before it.
      await this.settle().catch(() => undefined);
      if (this.ownUpload) await this.upload?.abort().catch(() => undefined);
      throw error;
    }
    this.pending = [];
    this.pendingLength = 0;
    this.upload = null;
    this.ownUpload = false;
    this.session.multipartId = null;
    this.session.partEtags = [];
    this.session.partNumbers = [];
    this.receivedNow = received;
    this.session.layout = "whole";
    this.session.wholeDigest = `${this.session.algorithm}:${toHex(new Uint8Array(await digesting.digest))}`;
    return received;
  }

  /** Reads the whole stream into the session's multipart upload. */
  async append(body: ReadableStream<Uint8Array> | null): Promise<void> {
    if (body === null) return;
    for await (const chunk of readChunks(body, READ_CHUNK_BYTES, this.reading())) {
      if (this.offset + chunk.length > this.limits.maxBytes) throw this.limits.tooLarge();
      if (this.session.layout === "whole") await this.replayWholeObject();
      this.digest.update(chunk);
      this.receivedNow += chunk.length;
      await this.cut(chunk);
    }
  }

  /** Stores the remainder as a new tail object and returns the session state to commit. */
  async persist(): Promise<UploadSession> {
    await this.settle();
    if (this.receivedNow === 0 && this.session.layout === "whole") return this.session;
    const offset = this.offset;
    let tailKey: string | null = null;
    if (this.pendingLength > 0) {
      tailKey = uploadTailKey(this.session.id, offset, this.hold.writer);
      await this.bucket.put(tailKey, concatBytes(this.pending, this.pendingLength));
      this.created.add(tailKey);
    }
    return {
      ...this.session,
      offset,
      hashState: this.digest.save(),
      tailKey,
      tailLength: this.pendingLength,
    };
  }

  /** Objects of the session before this writer that the state it committed no longer names. */
  obsoleteAfterCommit(committed: UploadSession): { tail: string | null; objects: string[] } {
    const tail =
      this.original.tailKey !== null && this.original.tailKey !== committed.tailKey ? this.original.tailKey : null;
    const replaced = this.replaced ?? (this.original.layout === "whole" ? this.original.objectKey : null);
    return { tail, objects: replaced !== null && replaced !== committed.objectKey ? [replaced] : [] };
  }

  /** Removes what this writer stored, when its state was not committed (it lost its hold, or failed). */
  async discardCreated(): Promise<void> {
    await this.settle().catch(() => undefined);
    if (this.ownUpload) await this.upload?.abort().catch(() => undefined);
    if (this.created.size > 0) await this.bucket.delete([...this.created]);
  }

  /**
   * Closes the session: checks the digest of everything received, then makes the blob object.
   * `findExisting` finds an object already stored for the digest, so a blob the registry
   * holds is not stored twice. What the close makes obsolete (the session's own object when
   * the digest had one already, its previous tail) is returned to delete once the session is
   * closed, never before: until then a writer that took the session over may still need it.
   */
  async complete(
    expected: ParsedDigest,
    findExisting: (digest: string) => Promise<BlobLocation | undefined>,
  ): Promise<CompleteResult> {
    await this.settle();
    const actualDigest = this.session.layout === "whole" ? (this.session.wholeDigest ?? "") : this.digest.digest();
    if (actualDigest !== expected.digest) return { ok: false, actualDigest };
    const size = this.offset;
    const previousTail = this.original.tailKey;
    const deleting = (keys: (string | null)[]) => async () => {
      const present = keys.filter((key): key is string => key !== null);
      if (present.length > 0) await this.bucket.delete(present);
    };
    if (this.session.layout === "whole") {
      const existing = await findExisting(expected.digest);
      if (existing === undefined)
        return { ok: true, location: { size, objectKey: this.session.objectKey }, obsolete: deleting([this.replaced]) };
      return { ok: true, location: existing, obsolete: deleting([this.session.objectKey, this.replaced]) };
    }
    const multipart = this.multipart();
    if (multipart === null) {
      const objectKey = canonicalBlobKey(expected);
      await this.bucket.put(objectKey, concatBytes(this.pending, this.pendingLength), checksumOption(expected));
      return { ok: true, location: { size, objectKey }, obsolete: deleting([previousTail, this.replaced]) };
    }
    const existing = await findExisting(expected.digest);
    if (existing !== undefined) {
      return {
        ok: true,
        location: existing,
        obsolete: async () => {
          await multipart.abort().catch(() => undefined);
          await deleting([previousTail, this.replaced])();
        },
      };
    }
    if (this.pendingLength > 0) await this.uploadPart(concatBytes(this.pending, this.pendingLength));
    await this.settle();
    // Renewed just before: completing the upload must not be the act of a writer that lost its hold.
    await this.hold.keepAlive(true);
    await multipart.complete(this.partList());
    return {
      ok: true,
      location: { size, objectKey: this.session.objectKey },
      obsolete: deleting([previousTail, this.replaced]),
    };
  }

  /** How request bodies are read: with the body timeout, keeping the hold alive as bytes come. */
  private reading(): BodyReading {
    return { timeout: this.limits.timeout, onProgress: () => this.hold.keepAlive() };
  }

  /** This writer's key for an object or multipart upload it creates for the session. */
  private ownObjectKey(): string {
    return assembledBlobKey(this.session.id, this.hold.writer);
  }

  private partList(): R2UploadedPart[] {
    return this.session.partEtags.map((etag, index) => ({
      partNumber: this.session.partNumbers[index] ?? index + 1,
      etag,
    }));
  }

  /**
   * Moves a whole first object into a multipart upload of this writer's, hashing it into the
   * resumable state (its native digest could not be carried on). Happens at most once per
   * session; the whole object stays until the new state is committed.
   */
  private async replayWholeObject(): Promise<void> {
    const source = this.session.objectKey;
    const object = await this.bucket.get(source);
    if (object === null) throw new Error(`upload ${this.session.id}: object ${source} is missing`);
    this.replaced = source;
    this.session.objectKey = this.ownObjectKey();
    this.session.layout = "parts";
    this.session.wholeDigest = null;
    // An R2 body is bytes; the runtime's types leave its chunk type open.
    for await (const chunk of readChunks(object.body as ReadableStream<Uint8Array>, READ_CHUNK_BYTES)) {
      this.digest.update(chunk);
      await this.cut(chunk);
    }
  }

  /** Adds bytes to the pending part, uploading each part as it fills. */
  private async cut(chunk: Uint8Array): Promise<void> {
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

  /** Starts uploading the next part once fewer than `PARTS_IN_FLIGHT` are uploading. */
  private async uploadPart(part: Uint8Array): Promise<void> {
    while (this.inflight.length >= PARTS_IN_FLIGHT) await this.inflight.shift();
    const upload = this.multipart() ?? (await this.createMultipart());
    const partNumber = await this.nextPartNumber();
    const index = this.session.partEtags.length;
    this.session.partEtags.push("");
    this.session.partNumbers.push(partNumber);
    const uploading = upload.uploadPart(partNumber, part).then((uploaded) => {
      this.session.partEtags[index] = uploaded.etag;
    });
    // Keep a rejection from going unhandled while the next part fills; settle() rethrows it.
    uploading.catch(() => undefined);
    this.inflight.push(uploading);
  }

  /**
   * The next part number: in an upload this writer created, simply the next one; in the
   * session's shared upload, one reserved for this writer (no other writer gets it).
   */
  private async nextPartNumber(): Promise<number> {
    if (this.ownUpload) return this.session.partNumbers.length + 1;
    if (this.reserved === null || this.reserved.next > this.reserved.through) {
      const { from, through } = await this.hold.reserveParts(PARTS_PER_RESERVATION);
      this.reserved = { next: from, through };
    }
    return this.reserved.next++;
  }

  private async settle(): Promise<void> {
    const inflight = this.inflight;
    this.inflight = [];
    await Promise.all(inflight);
  }

  private multipart(): R2MultipartUpload | null {
    if (this.upload) return this.upload;
    if (this.session.multipartId === null) return null;
    this.upload = this.bucket.resumeMultipartUpload(this.session.objectKey, this.session.multipartId);
    return this.upload;
  }

  private async createMultipart(): Promise<R2MultipartUpload> {
    this.session.objectKey = this.ownObjectKey();
    this.upload = await this.bucket.createMultipartUpload(this.session.objectKey);
    this.ownUpload = true;
    this.session.multipartId = this.upload.uploadId;
    return this.upload;
  }
}

/**
 * Stores a body that declared `length` bytes as one object at `key` (with `options`, e.g. R2's
 * checksum check) through a FixedLengthStream, so the object has a known length whatever
 * stream the body is, while also writing the bytes to `digesting` if given. Both writes wait
 * for room, so memory stays bounded; the body is read as `reading` says (a body that stops
 * arriving fails with its timeout's error). Returns the number of bytes the body really had;
 * on a mismatch nothing is stored.
 */
export async function storeExactly(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array> | null,
  length: number,
  options: R2PutOptions,
  reading: BodyReading,
  digesting?: DigestStream,
): Promise<number> {
  if (length === 0 || body === null) {
    // Nothing declared: a byte that comes anyway is a mismatch (counted up to the first chunk).
    if (body !== null) {
      for await (const chunk of readChunks(body, READ_CHUNK_BYTES, reading)) if (chunk.length > 0) return chunk.length;
    }
    if (length > 0) return 0;
    await Promise.all([bucket.put(key, new Uint8Array(0), options), digesting?.getWriter().close()]);
    return 0;
  }
  const sized = new FixedLengthStream(length);
  const storing = bucket.put(key, sized.readable, options);
  storing.catch(() => undefined);
  const store = sized.writable.getWriter();
  const digest = digesting?.getWriter();
  let received = 0;
  try {
    for await (const chunk of readChunks(body, READ_CHUNK_BYTES, reading)) {
      received += chunk.length;
      if (received > length) break;
      await Promise.all([store.ready, digest?.ready]);
      store.write(chunk).catch(() => undefined);
      digest?.write(chunk).catch(() => undefined);
    }
  } catch (error) {
    await store.abort(error).catch(() => undefined);
    await storing.catch(() => undefined);
    throw error;
  }
  if (received !== length) {
    await store.abort(new Error("body length mismatch")).catch(() => undefined);
    await storing.catch(() => undefined);
    return received;
  }
  await Promise.all([store.close(), digest?.close()]);
  await storing;
  return received;
}

/**
 * Frees what an abandoned or cancelled session holds in R2: its multipart upload, its object
 * and every tail object under its prefix (writers that lost their hold may have left one).
 * Only for sessions that never completed: the session key holds no linked blob until the
 * session is closed.
 */
export async function discardUploadStorage(bucket: R2Bucket, session: UploadSession): Promise<void> {
  if (session.multipartId !== null) {
    try {
      await bucket.resumeMultipartUpload(session.objectKey, session.multipartId).abort();
    } catch {
      // Already aborted: nothing left to free.
    }
  }
  const tails: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: uploadPrefix(session.id), cursor });
    tails.push(...page.objects.map((object) => object.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  await bucket.delete([session.objectKey, ...tails]);
}

/** R2 verifies the bytes against the digest and stores nothing on a mismatch. */
export function checksumOption(digest: ParsedDigest): R2PutOptions {
  return digest.algorithm === "sha256" ? { sha256: digest.hex } : { sha512: digest.hex };
}
