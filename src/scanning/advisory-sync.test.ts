import { describe, expect, it } from "vitest";
import { newerEntries } from "./advisory-sync";

const CSV = [
  "2024-03-01T00:00:00Z,DEBIAN-CVE-2024-3",
  "2024-02-01T00:00:00Z,DEBIAN-CVE-2024-2",
  "2024-02-01T00:00:00Z,DEBIAN-CVE-2024-22",
  "2024-01-01T00:00:00Z,DEBIAN-CVE-2024-1",
  "",
].join("\n");

describe("newerEntries", () => {
  it("takes every entry the first time, oldest first", () => {
    expect(newerEntries(CSV, null).map((entry) => entry.id)).toEqual([
      "DEBIAN-CVE-2024-1",
      "DEBIAN-CVE-2024-22",
      "DEBIAN-CVE-2024-2",
      "DEBIAN-CVE-2024-3",
    ]);
  });
  it("stops below the cursor, keeping the entries at its own time", () => {
    expect(newerEntries(CSV, "2024-02-01T00:00:00.000Z").map((entry) => entry.id)).toEqual([
      "DEBIAN-CVE-2024-22",
      "DEBIAN-CVE-2024-2",
      "DEBIAN-CVE-2024-3",
    ]);
    expect(newerEntries(CSV, "2024-04-01T00:00:00.000Z")).toEqual([]);
  });
  it("skips malformed lines", () => {
    expect(newerEntries("garbage\nnot-a-date,X\n2024-01-01T00:00:00Z,OK-1\n", null)).toEqual([
      { modified: "2024-01-01T00:00:00.000Z", id: "OK-1" },
    ]);
  });
});
