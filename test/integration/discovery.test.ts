import { describe, expect, it } from "vitest";
import {
  bytesOf,
  call,
  digestOf,
  EMPTY_CONFIG,
  OCI_MANIFEST,
  OCI_INDEX,
  EMPTY_DIGEST,
  expectError,
  pushBlob,
  pushImage,
  putManifestBytes,
} from "../support/registry";

const NAME = "team-a/web-app";

async function tagAll(name: string, tags: string[]): Promise<void> {
  const { bytes } = await pushImage(name, tags[0]!);
  for (const tag of tags.slice(1)) expect((await putManifestBytes(name, tag, bytes)).status).toBe(201);
}

describe("tag list", () => {
  it("lists tags in lexical order", async () => {
    await tagAll(NAME, ["v2", "latest", "V1", "1.0", "_x", "v10"]);
    const response = await call("GET", `/v2/${NAME}/tags/list`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: NAME, tags: ["1.0", "V1", "_x", "latest", "v10", "v2"] });
    expect(response.headers.get("Link")).toBeNull();
  });

  it("paginates with n and last, with a Link to the next page", async () => {
    await tagAll(NAME, ["a", "b", "c", "d", "e"]);
    const first = await call("GET", `/v2/${NAME}/tags/list?n=2`);
    expect(await first.json()).toEqual({ name: NAME, tags: ["a", "b"] });
    expect(first.headers.get("Link")).toBe(`</v2/${NAME}/tags/list?n=2&last=b>; rel="next"`);
    const second = await call("GET", `/v2/${NAME}/tags/list?n=2&last=b`);
    expect(await second.json()).toEqual({ name: NAME, tags: ["c", "d"] });
    const last = await call("GET", `/v2/${NAME}/tags/list?n=2&last=d`);
    expect(await last.json()).toEqual({ name: NAME, tags: ["e"] });
    expect(last.headers.get("Link")).toBeNull();
    // Exactly n left: no Link.
    const exact = await call("GET", `/v2/${NAME}/tags/list?n=3&last=b`);
    expect(await exact.json()).toEqual({ name: NAME, tags: ["c", "d", "e"] });
    expect(exact.headers.get("Link")).toBeNull();
    const none = await call("GET", `/v2/${NAME}/tags/list?n=0`);
    expect(await none.json()).toEqual({ name: NAME, tags: [] });
    expect(none.headers.get("Link")).toBeNull();
    const pastEnd = await call("GET", `/v2/${NAME}/tags/list?last=zzz`);
    expect(await pastEnd.json()).toEqual({ name: NAME, tags: [] });
    // `last` need not be an existing tag.
    const between = await call("GET", `/v2/${NAME}/tags/list?last=bb&n=1`);
    expect(await between.json()).toEqual({ name: NAME, tags: ["c"] });
  });

  it("answers NAME_UNKNOWN for unknown repositories and an empty list for repositories without tags", async () => {
    await expectError(await call("GET", `/v2/team-x/nothing/tags/list`), 404, "NAME_UNKNOWN");
    await pushBlob(NAME, bytesOf("x"));
    expect(await (await call("GET", `/v2/${NAME}/tags/list`)).json()).toEqual({ name: NAME, tags: [] });
  });

  it("rejects a bad n with PAGINATION_NUMBER_INVALID", async () => {
    await tagAll(NAME, ["a"]);
    await expectError(await call("GET", `/v2/${NAME}/tags/list?n=-1`), 400, "PAGINATION_NUMBER_INVALID");
    await expectError(await call("GET", `/v2/${NAME}/tags/list?n=abc`), 400, "PAGINATION_NUMBER_INVALID");
  });
});

describe("catalog", () => {
  it("lists repositories with pagination", async () => {
    for (const name of ["b/one", "a/two", "c/three/deep"]) await pushBlob(name, bytesOf(name));
    expect(await (await call("GET", "/v2/_catalog")).json()).toEqual({
      repositories: ["a/two", "b/one", "c/three/deep"],
    });
    const first = await call("GET", "/v2/_catalog?n=1");
    expect(await first.json()).toEqual({ repositories: ["a/two"] });
    expect(first.headers.get("Link")).toBe(`</v2/_catalog?n=1&last=a%2Ftwo>; rel="next"`);
    const next = await call("GET", "/v2/_catalog?n=1&last=a%2Ftwo");
    expect(await next.json()).toEqual({ repositories: ["b/one"] });
  });
});

describe("referrers", () => {
  async function pushReferrer(
    name: string,
    subject: { digest: string; size: number },
    artifactType: string,
    annotations: Record<string, string>,
  ) {
    await pushBlob(name, EMPTY_CONFIG);
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_DIGEST, size: 2 },
      layers: [{ mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_DIGEST, size: 2 }],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
      annotations,
    };
    const bytes = bytesOf(JSON.stringify(manifest));
    const digest = await digestOf(bytes);
    const response = await putManifestBytes(name, digest, bytes);
    expect(response.status).toBe(201);
    expect(response.headers.get("OCI-Subject")).toBe(subject.digest);
    return { digest, size: bytes.length };
  }

  it("lists referrers as an index, with artifactType and annotations, filtered on request", async () => {
    const image = await pushImage(NAME, "v1");
    const subject = { digest: image.digest, size: image.bytes.length };
    const sig = await pushReferrer(NAME, subject, "application/vnd.dev.cosign.signature", { "created-by": "test" });
    const sbom = await pushReferrer(NAME, subject, "application/spdx+json", { kind: "sbom" });
    const all = await call("GET", `/v2/${NAME}/referrers/${image.digest}`);
    expect(all.status).toBe(200);
    expect(all.headers.get("Content-Type")).toBe(OCI_INDEX);
    expect(all.headers.get("OCI-Filters-Applied")).toBeNull();
    const index = await all.json<{ schemaVersion: number; mediaType: string; manifests: unknown[] }>();
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe(OCI_INDEX);
    expect(index.manifests).toHaveLength(2);
    expect(index.manifests).toContainEqual({
      mediaType: OCI_MANIFEST,
      digest: sig.digest,
      size: sig.size,
      artifactType: "application/vnd.dev.cosign.signature",
      annotations: { "created-by": "test" },
    });
    const filtered = await call("GET", `/v2/${NAME}/referrers/${image.digest}?artifactType=application/spdx%2Bjson`);
    expect(filtered.headers.get("OCI-Filters-Applied")).toBe("artifactType");
    const filteredIndex = await filtered.json<{ manifests: { digest: string }[] }>();
    expect(filteredIndex.manifests.map((m) => m.digest)).toEqual([sbom.digest]);
  });

  it("works for subjects never pushed and for unknown repositories", async () => {
    const subject = await digestOf(bytesOf("nothing"));
    const referrer = await pushReferrer(NAME, { digest: subject, size: 7 }, "application/example", {});
    const listed = await (
      await call("GET", `/v2/${NAME}/referrers/${subject}`)
    ).json<{ manifests: { digest: string }[] }>();
    expect(listed.manifests.map((m) => m.digest)).toEqual([referrer.digest]);
    const empty = await call("GET", `/v2/team-x/none/referrers/${subject}`);
    expect(empty.status).toBe(200);
    expect((await empty.json<{ manifests: unknown[] }>()).manifests).toEqual([]);
    await expectError(await call("GET", `/v2/${NAME}/referrers/sha256:bad`), 400, "DIGEST_INVALID");
  });

  it("paginates referrers", async () => {
    const subject = await digestOf(bytesOf("subject"));
    const digests: string[] = [];
    for (let i = 0; i < 5; i++)
      digests.push(
        (await pushReferrer(NAME, { digest: subject, size: 7 }, "application/example", { i: String(i) })).digest,
      );
    digests.sort();
    const seen: string[] = [];
    let next: string | null = `/v2/${NAME}/referrers/${subject}?n=2`;
    let pages = 0;
    while (next) {
      const response = await call("GET", next);
      const page = await response.json<{ manifests: { digest: string }[] }>();
      seen.push(...page.manifests.map((m) => m.digest));
      next = response.headers.get("Link")?.match(/^<([^>]+)>; rel="next"$/)?.[1] ?? null;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(digests);
  });
});

describe("referrers tag schema", () => {
  it("merges the entries of a sha256-<hex> tag index into the referrers list", async () => {
    const image = await pushImage(NAME, "v1");
    // A referrer pushed without a `subject` field, listed only through the tag schema index.
    const signature = await pushImage(NAME, "legacy-signature");
    const legacy = {
      mediaType: OCI_MANIFEST,
      digest: signature.digest,
      size: signature.bytes.length,
      artifactType: "application/legacy",
    };
    const index = bytesOf(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [legacy] }));
    const hexTag = image.digest.replace(":", "-");
    expect((await putManifestBytes(NAME, hexTag, index, OCI_INDEX)).status).toBe(201);
    const listed = await (await call("GET", `/v2/${NAME}/referrers/${image.digest}`)).json<{ manifests: unknown[] }>();
    expect(listed.manifests).toEqual([legacy]);
    const filtered = await (
      await call("GET", `/v2/${NAME}/referrers/${image.digest}?artifactType=other`)
    ).json<{ manifests: unknown[] }>();
    expect(filtered.manifests).toEqual([]);
  });
});
