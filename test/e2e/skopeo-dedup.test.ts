/**
 * Re-pushing an image uploads no layer twice: to a second tag of the same repository skopeo
 * finds every blob with HEAD; to a second repository it mounts them from the first one
 * (`POST /blobs/uploads/?mount=<digest>&from=<repository>`). Checked on the HTTP requests
 * skopeo logs with --debug, and on what that log says about each blob.
 */
import { basename, join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { fetchManifest, registryFetch, useTempDir } from "./support/context";
import { buildSingleArchLayout, type SingleArchLayout } from "./support/image-builder";
import {
  describeRun,
  dockerRef,
  isMountRequest,
  ociRef,
  requestsOf,
  skopeo,
  summarize,
  uploadRequests,
  type SkopeoResult,
} from "./support/skopeo";

const KiB = 1024;

/**
 * skopeo remembers where it has seen each blob (its blob-info cache, which for root lives in
 * /var/lib/containers/cache whatever the environment) and tries those repositories for mounts.
 * Seeding layers with this run's id keeps earlier runs' records out of these tests.
 */
const runId = () => basename(inject("e2eTempDir"));

/** Digests whose upload session skopeo finished (`PUT /blobs/uploads/<id>?digest=`). */
function uploadedDigests(result: SkopeoResult): string[] {
  return uploadRequests(requestsOf(result.stderr))
    .filter((r) => r.method === "PUT")
    .map((r) => r.url.searchParams.get("digest") ?? "(no digest)");
}

async function push(layout: SingleArchLayout, repository: string, tag: string, dir: string): Promise<SkopeoResult> {
  return skopeo(
    [
      "copy",
      "--preserve-digests",
      "--dest-tls-verify=false",
      ociRef(layout.path, layout.tag),
      dockerRef(repository, tag),
    ],
    {
      debug: true,
      tmpDir: dir,
    },
  );
}

async function expectLinked(repository: string, digests: readonly string[]): Promise<void> {
  for (const digest of digests) {
    const head = await registryFetch("HEAD", `/v2/${repository}/blobs/${digest}`);
    expect(head.status, `HEAD ${digest} in ${repository}`).toBe(200);
  }
}

describe("re-pushing an image uploads no layer twice", () => {
  const tmp = useTempDir("dedup-");

  it("to a second tag of the same repository: no upload at all", async () => {
    const image = await buildSingleArchLayout({
      seed: `dedup/same-repo/${runId()}`,
      tag: "src",
      layers: [{ size: 200 * KiB }, { size: 150 * KiB }, { size: 100 * KiB }],
      dir: join(tmp.path, "image"),
    });
    const repository = "team-a/dedup";

    const first = await push(image, repository, "v1", tmp.path);
    // The first push really uploads every blob (so the check below is not vacuous).
    expect(new Set(uploadedDigests(first)), describeRun(first)).toEqual(new Set(image.blobDigests));

    const second = await push(image, repository, "v2", tmp.path);
    const requests = requestsOf(second.stderr);
    expect(requests.length, `no requests parsed from --debug output:\n${describeRun(second)}`).toBeGreaterThan(0);
    expect(uploadRequests(requests), `re-push uploaded blobs:\n${summarize(requests)}`).toEqual([]);
    // skopeo 1.9 shows "Copying blob <digest> skipped: already exists" only in its progress
    // bars (on a terminal); its debug log says it for every layer.
    for (const digest of image.layerDigests) {
      expect(second.stderr, describeRun(second)).toContain(`Skipping blob ${digest} (already present)`);
    }
    expect(
      requests.some((r) => r.method === "PUT" && r.path === `/v2/${repository}/manifests/v2`),
      summarize(requests),
    ).toBe(true);

    const v1 = await fetchManifest(repository, "v1");
    const v2 = await fetchManifest(repository, "v2");
    expect(v1.digest).toBe(image.manifestDigest);
    expect(v2.digest).toBe(image.manifestDigest);
    expect(v2.bytes.equals(image.image.manifest.bytes)).toBe(true);
  });

  it("to a second repository: layers are mounted from the first, not uploaded", async () => {
    const image = await buildSingleArchLayout({
      seed: `dedup/cross-repo/${runId()}`,
      tag: "src",
      layers: [{ size: 180 * KiB }, { size: 120 * KiB }, { size: 90 * KiB }],
      dir: join(tmp.path, "image"),
    });
    const source = "team-a/shared-base";
    const target = "team-b/shared-base";

    const first = await push(image, source, "v1", tmp.path);
    expect(new Set(uploadedDigests(first)), describeRun(first)).toEqual(new Set(image.blobDigests));

    const second = await push(image, target, "v1", tmp.path);
    const requests = requestsOf(second.stderr);
    const uploads = uploadRequests(requests);
    // No layer goes through an upload session: each one is a successful cross-repo mount.
    for (const digest of image.layerDigests) {
      expect(uploadedDigests(second), `layer ${digest} was uploaded again:\n${summarize(requests)}`).not.toContain(
        digest,
      );
      const mounts = uploads.filter((r) => isMountRequest(r) && r.url.searchParams.get("mount") === digest);
      expect(mounts.length, `layer ${digest} was not mounted:\n${summarize(requests)}`).toBe(1);
      expect(mounts[0]!.url.searchParams.get("from")).toBe(source);
    }
    // skopeo logs "... mount OK" once per mounted blob (a 202 would start an upload instead).
    expect(second.stderr.match(/\.\.\. mount OK/g)?.length ?? 0, describeRun(second)).toBe(image.layerDigests.length);
    // Only the config (which skopeo never mounts) may be uploaded, through one session.
    expect(
      uploadedDigests(second).filter((d) => d !== image.configDigest),
      summarize(requests),
    ).toEqual([]);
    const sessions = uploads.filter((r) => r.method === "POST" && !isMountRequest(r));
    expect(sessions.length, summarize(requests)).toBeLessThanOrEqual(1);
    expect(uploads.filter((r) => r.method === "PATCH").length, summarize(requests)).toBeLessThanOrEqual(1);

    await expectLinked(target, image.blobDigests);
    const pushed = await fetchManifest(target, "v1");
    expect(pushed.digest).toBe(image.manifestDigest);
    expect(pushed.bytes.equals(image.image.manifest.bytes)).toBe(true);

    // And a third push, to the target again under another tag, uploads nothing at all.
    const third = await push(image, target, "v2", tmp.path);
    expect(uploadRequests(requestsOf(third.stderr)), summarize(requestsOf(third.stderr))).toEqual([]);
  });
});
