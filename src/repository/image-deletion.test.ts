import { describe, expect, it } from "vitest";
import { planDeletion, type DeletionFacts } from "./image-deletion";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const INDEX = `sha256:${"c".repeat(64)}`;
const OUTER = `sha256:${"d".repeat(64)}`;

/** A repository: A tagged one and two, B untagged, INDEX (tagged multi) listing A and B. */
function facts(overrides: Partial<DeletionFacts> = {}): DeletionFacts {
  return {
    tagDigests: new Map([
      ["one", A],
      ["two", A],
      ["multi", INDEX],
    ]),
    existing: new Set([A, B, INDEX]),
    tagsOf: new Map([
      [A, ["one", "two"]],
      [B, []],
      [INDEX, ["multi"]],
    ]),
    parentsOf: new Map([
      [A, [INDEX]],
      [B, [INDEX]],
      [INDEX, []],
    ]),
    ...overrides,
  };
}

describe("planDeletion", () => {
  it("removes a tag only while the image keeps another", () => {
    expect(planDeletion([{ tag: "one" }], facts())).toEqual({
      deleted: [{ digest: A, tag: "one" }],
      failures: [],
      manifests: [],
      tags: ["one"],
    });
  });

  it("deletes an image losing its last tag, unless an index that stays lists it", () => {
    const plan = planDeletion([{ tag: "one" }, { tag: "two" }], facts());
    expect(plan.manifests).toEqual([]);
    expect(plan.tags).toEqual([]);
    expect(plan.failures.map((f) => f.code)).toEqual([
      "ImageReferencedByManifestList",
      "ImageReferencedByManifestList",
    ]);
    expect(plan.failures[0]?.reason).toContain(INDEX);

    const unreferenced = facts({ parentsOf: new Map([[A, []]]) });
    expect(planDeletion([{ tag: "one" }, { tag: "two" }], unreferenced)).toMatchObject({
      manifests: [A],
      tags: [],
      failures: [],
    });
  });

  it("deletes by digest with every tag, reporting one id per tag", () => {
    const plan = planDeletion([{ digest: INDEX }], facts());
    expect(plan).toEqual({ deleted: [{ digest: INDEX, tag: "multi" }], failures: [], manifests: [INDEX], tags: [] });
  });

  it("deletes children together with the index that lists them, in any order", () => {
    const plan = planDeletion([{ digest: B }, { digest: INDEX }], facts());
    expect(plan.failures).toEqual([]);
    expect(plan.manifests.sort()).toEqual([B, INDEX].sort());
    expect(plan.deleted).toContainEqual({ digest: B, tag: null });
  });

  it("keeps the children of an index that itself stays because another index lists it", () => {
    const nested = facts({
      parentsOf: new Map([
        [B, [INDEX]],
        [INDEX, [OUTER]],
      ]),
    });
    const plan = planDeletion([{ digest: B }, { digest: INDEX }], nested);
    expect(plan.manifests).toEqual([]);
    expect(plan.failures.map((f) => [f.target.digest, f.code])).toEqual([
      [B, "ImageReferencedByManifestList"],
      [INDEX, "ImageReferencedByManifestList"],
    ]);
  });

  it("reports unknown images and a tag naming another digest", () => {
    const plan = planDeletion([{ tag: "ghost" }, { digest: OUTER }, { tag: "one", digest: INDEX }], facts());
    expect(plan.failures.map((f) => f.code)).toEqual(["ImageNotFound", "ImageNotFound", "ImageTagDoesNotMatchDigest"]);
    expect(plan).toMatchObject({ deleted: [], manifests: [], tags: [] });
  });

  it("reports a requested id once however often it is listed", () => {
    expect(planDeletion([{ tag: "one" }, { tag: "one" }], facts()).deleted).toEqual([{ digest: A, tag: "one" }]);
  });
});
