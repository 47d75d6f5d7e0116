import { describe, expect, it } from "vitest";
import { parseDistributionPath, type DistributionRoute } from "./path";

const SHA = "sha256:" + "ab".repeat(32);
const SHA_ENCODED = "sha256%3A" + "ab".repeat(32);

describe("parseDistributionPath", () => {
  it.each<[string, string, DistributionRoute]>([
    // upload-start
    ["upload start with trailing slash", "repo/blobs/uploads/", { kind: "upload-start", name: "repo" }],
    ["upload start without trailing slash", "repo/blobs/uploads", { kind: "upload-start", name: "repo" }],
    ["upload start in a namespace", "team-a/web/blobs/uploads/", { kind: "upload-start", name: "team-a/web" }],
    ["upload start, deep name", "a/b/c/d/blobs/uploads", { kind: "upload-start", name: "a/b/c/d" }],

    // upload
    [
      "upload id",
      "repo/blobs/uploads/0f6c4a1e-7f1b-4c36-9d1c-2f0e0f7b6a11",
      { kind: "upload", name: "repo", id: "0f6c4a1e-7f1b-4c36-9d1c-2f0e0f7b6a11" },
    ],
    ["upload id in a namespace", "a/b/c/blobs/uploads/abc123", { kind: "upload", name: "a/b/c", id: "abc123" }],
    ["percent-encoded upload id", "repo/blobs/uploads/a%2Bb%3Dc", { kind: "upload", name: "repo", id: "a+b=c" }],
    ["badly encoded upload id is kept raw", "repo/blobs/uploads/a%ZZb", { kind: "upload", name: "repo", id: "a%ZZb" }],

    // blob
    ["blob", `repo/blobs/${SHA}`, { kind: "blob", name: "repo", digest: SHA }],
    ["blob in a namespace", `team-a/web/api/blobs/${SHA}`, { kind: "blob", name: "team-a/web/api", digest: SHA }],
    ["percent-encoded blob digest", `repo/blobs/${SHA_ENCODED}`, { kind: "blob", name: "repo", digest: SHA }],
    ["lowercase percent-encoding", "repo/blobs/sha256%3aabc", { kind: "blob", name: "repo", digest: "sha256:abc" }],
    [
      "short digest-like blob (validated elsewhere)",
      "repo/blobs/sha256%3Aabc",
      { kind: "blob", name: "repo", digest: "sha256:abc" },
    ],
    [
      "blob with a malformed escape is kept raw",
      "repo/blobs/sha256%3",
      { kind: "blob", name: "repo", digest: "sha256%3" },
    ],
    [
      "blob with an invalid UTF-8 escape is kept raw",
      "repo/blobs/%E0%A4%A",
      { kind: "blob", name: "repo", digest: "%E0%A4%A" },
    ],

    // manifest
    ["manifest by tag", "repo/manifests/latest", { kind: "manifest", name: "repo", reference: "latest" }],
    [
      "manifest, multi-component name",
      "a/b/c/manifests/latest",
      { kind: "manifest", name: "a/b/c", reference: "latest" },
    ],
    ["manifest by digest", `repo/manifests/${SHA}`, { kind: "manifest", name: "repo", reference: SHA }],
    [
      "manifest by percent-encoded digest",
      `a/b/manifests/${SHA_ENCODED}`,
      { kind: "manifest", name: "a/b", reference: SHA },
    ],
    ["manifest by dotted tag", "repo/manifests/v1.2.3", { kind: "manifest", name: "repo", reference: "v1.2.3" }],
    ["tag named list", "repo/manifests/list", { kind: "manifest", name: "repo", reference: "list" }],
    ["tag named uploads", "repo/manifests/uploads", { kind: "manifest", name: "repo", reference: "uploads" }],

    // tags
    ["tags list", "repo/tags/list", { kind: "tags", name: "repo" }],
    ["tags list, multi-component name", "team-a/web/api/tags/list", { kind: "tags", name: "team-a/web/api" }],

    // referrers
    ["referrers", `repo/referrers/${SHA}`, { kind: "referrers", name: "repo", digest: SHA }],
    ["referrers, percent-encoded", `a/b/c/referrers/${SHA_ENCODED}`, { kind: "referrers", name: "a/b/c", digest: SHA }],

    // Names whose components are route keywords: the resource is read from the end.
    ["repository named blobs", "blobs/manifests/latest", { kind: "manifest", name: "blobs", reference: "latest" }],
    [
      "namespace ending in blobs",
      "x/blobs/manifests/latest",
      { kind: "manifest", name: "x/blobs", reference: "latest" },
    ],
    ["namespace ending in manifests, tags list", "x/manifests/tags/list", { kind: "tags", name: "x/manifests" }],
    [
      "namespace ending in manifests, blob",
      `x/manifests/blobs/${SHA}`,
      { kind: "blob", name: "x/manifests", digest: SHA },
    ],
    [
      "namespace ending in tags, manifest",
      "x/tags/manifests/list",
      { kind: "manifest", name: "x/tags", reference: "list" },
    ],
    ["namespace ending in blobs, upload start", "x/blobs/blobs/uploads/", { kind: "upload-start", name: "x/blobs" }],
    [
      "namespace with blobs/uploads, upload",
      "x/blobs/uploads/blobs/uploads/id1",
      { kind: "upload", name: "x/blobs/uploads", id: "id1" },
    ],
    [
      "namespace with blobs/uploads, manifest",
      "x/blobs/uploads/y/manifests/v1",
      { kind: "manifest", name: "x/blobs/uploads/y", reference: "v1" },
    ],
    ["namespace ending in referrers, tags", "x/referrers/tags/list", { kind: "tags", name: "x/referrers" }],

    // The name is returned as-is: grammar checks happen elsewhere.
    [
      "percent-encoded name is not decoded",
      "a%2Fb/manifests/latest",
      { kind: "manifest", name: "a%2Fb", reference: "latest" },
    ],
    ["uppercase name is passed through", "Repo/tags/list", { kind: "tags", name: "Repo" }],
    ["empty component is passed through", "a//b/tags/list", { kind: "tags", name: "a//b" }],
    ["leading slash is part of the name", "/repo/tags/list", { kind: "tags", name: "/repo" }],
  ])("%s: %s", (_label, path, expected) => {
    expect(parseDistributionPath(path)).toEqual(expected);
  });

  it.each<[string, string]>([
    ["empty path", ""],
    ["a bare name", "repo"],
    ["a namespaced name", "team/web"],
    ["catalog", "_catalog"],
    ["no name before manifests", "manifests/latest"],
    ["slash then manifests", "/manifests/latest"],
    ["no name before tags", "tags/list"],
    ["no name before blobs/uploads", "blobs/uploads/"],
    ["no reference", "repo/manifests/"],
    ["no reference, no slash", "repo/manifests"],
    ["trailing slash after reference", "repo/manifests/latest/"],
    ["extra segment after reference", "repo/manifests/latest/extra"],
    ["no digest", "repo/blobs/"],
    ["no digest, no slash", "repo/blobs"],
    ["trailing slash after digest", `repo/blobs/${SHA}/`],
    ["trailing slash after upload id", "repo/blobs/uploads/id/"],
    ["extra segment after upload id", "repo/blobs/uploads/id/more"],
    ["tags without list", "repo/tags"],
    ["tags with something else", "repo/tags/all"],
    ["tags list with trailing slash", "repo/tags/list/"],
    ["uppercase keyword", "repo/Manifests/latest"],
    ["uppercase tags list", "repo/tags/LIST"],
    ["referrers without digest", "repo/referrers/"],
    ["referrers with trailing slash", `repo/referrers/${SHA}/`],
    ["unknown resource", "repo/layers/abc"],
  ])("returns null for %s: %j", (_label, path) => {
    expect(parseDistributionPath(path)).toBeNull();
  });
});
