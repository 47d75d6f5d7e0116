/**
 * SHA-256 / SHA-512 whose state can be saved between requests, so a chunked upload's digest
 * is computed over the bytes as they arrive, across PATCH requests, without reading the
 * stored object back. Built on @noble/hashes (pinned: the state fields used here are its
 * Merkle-Damgard internals, checked by resumable-digest.test.ts beside it).
 */
import { toHex } from "../bytes";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import type { DigestAlgorithm } from "../oci/grammar";

/** The parts of noble's HashMD that make up its resumable state. */
interface MerkleDamgardState {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
  get(): number[];
  set(...words: number[]): void;
  buffer: Uint8Array;
  pos: number;
  length: number;
}

interface SavedState {
  /** Chaining words as returned by noble's `get()`. */
  w: number[];
  /** Bytes buffered after the last full block, base64. */
  b: string;
  /** Total bytes hashed. */
  n: number;
}

function createHash(algorithm: DigestAlgorithm): MerkleDamgardState {
  const hash = algorithm === "sha256" ? sha256.create() : sha512.create();
  return hash as unknown as MerkleDamgardState;
}

export class ResumableDigest {
  private constructor(
    readonly algorithm: DigestAlgorithm,
    private readonly hash: MerkleDamgardState,
  ) {}

  static create(algorithm: DigestAlgorithm): ResumableDigest {
    return new ResumableDigest(algorithm, createHash(algorithm));
  }

  static restore(algorithm: DigestAlgorithm, saved: string): ResumableDigest {
    const state = JSON.parse(saved) as SavedState;
    const hash = createHash(algorithm);
    hash.set(...state.w);
    const pending = base64ToBytes(state.b);
    hash.buffer.set(pending);
    hash.pos = pending.length;
    hash.length = state.n;
    return new ResumableDigest(algorithm, hash);
  }

  /** Bytes hashed so far. */
  get length(): number {
    return this.hash.length;
  }

  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }

  save(): string {
    const state: SavedState = {
      w: this.hash.get(),
      b: bytesToBase64(this.hash.buffer.subarray(0, this.hash.pos)),
      n: this.hash.length,
    };
    return JSON.stringify(state);
  }

  /** `<algorithm>:<hex>` of everything hashed; the hasher must not be used afterwards. */
  digest(): string {
    return `${this.algorithm}:${toHex(this.hash.digest())}`;
  }
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function base64ToBytes(value: string): Uint8Array {
  const binary = atob(value);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
