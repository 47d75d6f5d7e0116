import { describe, expect, it } from "vitest";
import { lastPartNumber, leaseHolds, MAX_PART_NUMBER, nextPartNumbers, normalizeSession } from "./upload-session";
import type { UploadSession } from "../storage/upload-writer";

const session: UploadSession = {
  id: "s",
  repository: "r",
  createdAt: 0,
  offset: 0,
  algorithm: "sha256",
  hashState: "",
  wholeDigest: null,
  partSize: 8,
  layout: "parts",
  objectKey: "k",
  multipartId: "m",
  partEtags: ["a", "b", "c"],
  partNumbers: [1, 2, 7],
  tailKey: null,
  tailLength: 0,
};

describe("upload session leases", () => {
  it("hold until they expire, and a released lease holds nothing", () => {
    expect(leaseHolds("l", 1000, 999)).toBe(true);
    expect(leaseHolds("l", 1000, 1000)).toBe(false);
    expect(leaseHolds(null, 1000, 0)).toBe(false);
  });
});

describe("part numbers", () => {
  it("are reserved after every number reserved or committed before", () => {
    expect(nextPartNumbers(0, 0, 4)).toEqual({ from: 1, through: 4 });
    expect(nextPartNumbers(6, 2, 4)).toEqual({ from: 7, through: 10 });
    // Sessions saved before reservations: their committed parts count.
    expect(nextPartNumbers(0, 5, 2)).toEqual({ from: 6, through: 7 });
  });

  it("stop at R2's 10,000", () => {
    expect(nextPartNumbers(MAX_PART_NUMBER - 4, 0, 4)).toEqual({ from: MAX_PART_NUMBER - 3, through: MAX_PART_NUMBER });
    expect(nextPartNumbers(MAX_PART_NUMBER - 3, 0, 4)).toBeNull();
  });

  it("of a session are its highest, with gaps", () => {
    expect(lastPartNumber(session)).toBe(7);
    expect(lastPartNumber({ partNumbers: [] })).toBe(0);
  });

  it("of a session saved before they were recorded are 1..n", () => {
    const { partNumbers: _omitted, ...saved } = session;
    expect(normalizeSession(saved).partNumbers).toEqual([1, 2, 3]);
    expect(normalizeSession(session).partNumbers).toEqual([1, 2, 7]);
  });
});
