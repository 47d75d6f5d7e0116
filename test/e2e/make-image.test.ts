/**
 * `npm run -s make-image -- DIR` (scripts/make-image.mjs), the README's way to get an image to
 * push without a network: the layout it writes is one skopeo reads, pushes to the registry and
 * pulls back unchanged; a second tag joins the same layout; wrong command lines say why.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fetchManifest, useTempDir } from "./support/context";
import { dockerRef, ociRef, skopeo } from "./support/skopeo";
import { uniqueName } from "./support/ecr";

const ROOT = resolve(import.meta.dirname, "../..");

function makeImage(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [join(ROOT, "scripts/make-image.mjs"), ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        resolvePromise({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

const temp = useTempDir("make-image-");

describe("make-image", () => {
  it("writes a layout skopeo pushes and pulls back unchanged, with several tags", async () => {
    const layout = join(temp.path, "my-layout");
    const first = await makeImage([layout]);
    expect(first.code, first.stderr).toBe(0);
    const digest =
      /^Wrote image (sha256:[0-9a-f]{64}) \(\d+ bytes\) to the OCI layout \S+my-layout as latest\.\n$/.exec(
        first.stdout,
      )?.[1];
    expect(digest, first.stdout).toBeDefined();
    expect((await makeImage([layout, "--tag", "v2"])).code).toBe(0);
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as {
      manifests: { annotations: Record<string, string> }[];
    };
    expect(index.manifests.map((entry) => entry.annotations["org.opencontainers.image.ref.name"])).toEqual([
      "latest",
      "v2",
    ]);

    const repository = `${uniqueName("team-a")}/hello`;
    await skopeo(["copy", "--dest-tls-verify=false", ociRef(layout, "latest"), dockerRef(repository, "latest")]);
    await skopeo(["copy", "--dest-tls-verify=false", ociRef(layout, "v2"), dockerRef(repository, "v2")]);
    const served = await fetchManifest(repository, "latest");
    expect(served.digest).toBe(digest);

    const pulled = join(temp.path, "pulled");
    await skopeo(["copy", "--src-tls-verify=false", dockerRef(repository, "latest"), ociRef(pulled, "latest")]);
    const manifestPath = (dir: string) => join(dir, "blobs", "sha256", digest!.slice("sha256:".length));
    expect(readFileSync(manifestPath(pulled)).equals(readFileSync(manifestPath(layout)))).toBe(true);
  });

  it("refuses a directory that is not a layout, a bad tag and unknown arguments", async () => {
    const other = join(temp.path, "other");
    mkdirSync(other);
    writeFileSync(join(other, "notes.txt"), "mine");
    const refused = await makeImage([other]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^make-image: \S+other exists and is not an OCI layout \(no index\.json\): choose a new directory\n$/,
    );
    expect((await makeImage([join(temp.path, "x"), "--tag", "-bad"])).stderr).toMatch(
      /^make-image: "-bad" is not a valid tag\n/,
    );
    expect((await makeImage([])).stderr).toMatch(/^make-image: no layout directory given\n\nusage:/);
    const unknown = await makeImage([join(temp.path, "x"), "--size", "3"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^make-image: unknown argument "--size"/);
    const help = await makeImage(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run -s make-image -- DIR/);
  });
});
