import { describe, expect, it } from "vitest";
import type { DigestAlgorithm } from "../oci/grammar";
import { ResumableDigest } from "./resumable-digest";

const ALGORITHMS: readonly DigestAlgorithm[] = ["sha256", "sha512"];
const SIZES = [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000, 100_000] as const;
/** Offsets around the SHA-256 (64) and SHA-512 (128) block and padding boundaries. */
const INTERESTING = [0, 1, 2, 55, 56, 57, 63, 64, 65, 111, 112, 113, 127, 128, 129, 191, 192, 255, 256, 257, 999, 1000];

/** Independent of the code under test, so the reference digest cannot share its bugs. */
function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(at + 65536, length)));
  return out;
}

async function reference(algorithm: DigestAlgorithm, data: Uint8Array): Promise<string> {
  const hash = await crypto.subtle.digest(algorithm === "sha256" ? "SHA-256" : "SHA-512", data);
  return `${algorithm}:${hex(new Uint8Array(hash))}`;
}

/** Deterministic PRNG (mulberry32) so that piece layouts are reproducible. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Piece lengths summing to `size`, drawn from a mix of tiny, block-sized and empty pieces. */
function randomPieces(size: number, seed: number): number[] {
  const random = prng(seed);
  const choices = [0, 1, 3, 55, 56, 63, 64, 65, 127, 128, 129, 200, 1000, 4096];
  const pieces: number[] = [];
  let left = size;
  while (left > 0) {
    const want = choices[Math.floor(random() * choices.length)] ?? 1;
    const take = Math.min(want, left);
    pieces.push(take);
    left -= take;
  }
  pieces.push(0);
  return pieces;
}

/** Cuts `size` bytes into pieces of `length` (the last one may be shorter). */
function fixedPieces(size: number, length: number): number[] {
  const pieces: number[] = [];
  for (let at = 0; at < size; at += length) pieces.push(Math.min(length, size - at));
  return pieces;
}

/**
 * Hashes `data` piece by piece, saving the state and restoring it into a fresh hasher
 * between every piece (and feeding an empty piece after each restore), checking `length`
 * throughout. Returns the final digest.
 */
function hashInPieces(algorithm: DigestAlgorithm, data: Uint8Array, pieces: readonly number[]): string {
  let hasher = ResumableDigest.create(algorithm);
  let at = 0;
  for (const piece of pieces) {
    hasher = ResumableDigest.restore(algorithm, hasher.save());
    expect(hasher.length).toBe(at);
    hasher.update(new Uint8Array(0));
    expect(hasher.length).toBe(at);
    hasher.update(data.subarray(at, at + piece));
    at += piece;
    expect(hasher.length).toBe(at);
  }
  expect(at).toBe(data.length);
  hasher = ResumableDigest.restore(algorithm, hasher.save());
  expect(hasher.length).toBe(data.length);
  expect(hasher.algorithm).toBe(algorithm);
  return hasher.digest();
}

describe("ResumableDigest", () => {
  it.each<[DigestAlgorithm, string]>([
    ["sha256", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    [
      "sha512",
      "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    ],
  ])("%s of nothing", (algorithm, expected) => {
    const hasher = ResumableDigest.create(algorithm);
    expect(hasher.length).toBe(0);
    expect(hasher.digest()).toBe(expected);
    expect(ResumableDigest.restore(algorithm, ResumableDigest.create(algorithm).save()).digest()).toBe(expected);
  });

  it.each<[DigestAlgorithm, string, string]>([
    ["sha256", "abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "sha512",
      "abc",
      "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    ],
  ])("%s of %j split into single bytes", (algorithm, text, expected) => {
    const data = new TextEncoder().encode(text);
    expect(hashInPieces(algorithm, data, fixedPieces(data.length, 1))).toBe(expected);
  });

  describe.each(ALGORITHMS)("%s", (algorithm) => {
    it.each(SIZES)("matches crypto.subtle over %i random bytes, split many ways", async (size) => {
      const data = randomBytes(size);
      const expected = await reference(algorithm, data);
      expect(expected).toMatch(algorithm === "sha256" ? /^sha256:[0-9a-f]{64}$/ : /^sha512:[0-9a-f]{128}$/);

      const layouts: [string, number[]][] = [
        ["one piece", [size]],
        ["one piece after an empty one", [0, size, 0]],
      ];
      // Every single cut point for small inputs; block-boundary cuts for larger ones.
      const cuts =
        size <= 1000
          ? Array.from({ length: size + 1 }, (_, i) => i)
          : [...INTERESTING, size - 129, size - 128, size - 64, size - 1, size];
      for (const cut of cuts) {
        if (cut < 0 || cut > size) continue;
        layouts.push([`cut at ${cut}`, [cut, size - cut]]);
      }
      for (const length of [1, 7, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000, 4096, 65536]) {
        if (size > 1000 && length < 55) continue; // 100000 single-byte restores add little.
        if (length > size && size > 0) continue;
        layouts.push([`pieces of ${length}`, fixedPieces(size, length)]);
      }
      for (let seed = 1; seed <= 5; seed++)
        layouts.push([`random pieces, seed ${seed}`, randomPieces(size, seed * 7919 + size)]);
      if (size > 0) {
        // Ragged: 1 byte, then a block minus one, then a block plus one, then the rest.
        const ragged: number[] = [];
        let left = size;
        for (const piece of [1, 63, 65, 127, 129, 0, 1]) {
          const take = Math.min(piece, left);
          ragged.push(take);
          left -= take;
        }
        ragged.push(left);
        layouts.push(["ragged", ragged]);
      }

      for (const [label, pieces] of layouts) {
        expect(
          hashInPieces(algorithm, data, pieces),
          `${algorithm}, ${size} bytes, ${label}: [${pieces.join(",")}]`,
        ).toBe(expected);
      }
    });

    it("save() does not disturb the hasher, and a saved state can be restored more than once", async () => {
      const data = randomBytes(777);
      const hasher = ResumableDigest.create(algorithm);
      hasher.update(data.subarray(0, 300));
      const saved = hasher.save();
      expect(hasher.save()).toBe(saved);

      hasher.update(data.subarray(300));
      expect(hasher.length).toBe(777);
      expect(hasher.digest()).toBe(await reference(algorithm, data));

      const branchA = ResumableDigest.restore(algorithm, saved);
      const branchB = ResumableDigest.restore(algorithm, saved);
      expect(branchA.length).toBe(300);
      expect(branchB.length).toBe(300);
      branchA.update(data.subarray(300));
      branchB.update(data.subarray(300, 301));
      expect(branchA.digest()).toBe(await reference(algorithm, data));
      expect(branchB.digest()).toBe(await reference(algorithm, data.subarray(0, 301)));
      // The saved string itself is unchanged and still usable.
      expect(ResumableDigest.restore(algorithm, saved).digest()).toBe(
        await reference(algorithm, data.subarray(0, 300)),
      );
    });

    it("saves a JSON string that survives a round trip through storage", async () => {
      const data = randomBytes(200);
      const hasher = ResumableDigest.create(algorithm);
      hasher.update(data.subarray(0, 150));
      const saved = hasher.save();
      expect(typeof saved).toBe("string");
      const stored = JSON.stringify(JSON.parse(saved) as unknown);
      const restored = ResumableDigest.restore(algorithm, stored);
      restored.update(data.subarray(150));
      expect(restored.digest()).toBe(await reference(algorithm, data));
    });

    it("does not depend on the caller's buffer after update()", async () => {
      const data = randomBytes(100);
      const copy = data.slice();
      const hasher = ResumableDigest.create(algorithm);
      hasher.update(data.subarray(0, 50));
      const saved = hasher.save();
      data.fill(0, 0, 50);
      const restored = ResumableDigest.restore(algorithm, saved);
      restored.update(copy.subarray(50));
      expect(restored.digest()).toBe(await reference(algorithm, copy));
    });

    it("hashes pieces that are views into a larger buffer", async () => {
      const backing = randomBytes(4096);
      const data = backing.subarray(13, 13 + 3000);
      let hasher = ResumableDigest.create(algorithm);
      for (let at = 0; at < data.length; at += 333) {
        hasher.update(new Uint8Array(backing.buffer, backing.byteOffset + 13 + at, Math.min(333, data.length - at)));
        hasher = ResumableDigest.restore(algorithm, hasher.save());
      }
      expect(hasher.digest()).toBe(await reference(algorithm, data.slice()));
    });
  });
});
