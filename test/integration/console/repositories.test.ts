/**
 * The console's repository and image pages inside the runtime: a user sees only what the API
 * would let them describe (403 elsewhere, existing or not); a multi-arch index shows its tags,
 * sizes and platforms, its children their layers and config platform, an image its referrers;
 * hostile annotations and tags are escaped; every page carries the CSP; a page of 100 images
 * stays under 60 KB and pages beyond.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  allowPolicy,
  bytesOf,
  call,
  createRepository,
  createUser,
  digestOf,
  EMPTY_CONFIG,
  EMPTY_DIGEST,
  OCI_MANIFEST,
  pushBlob,
  pushImage,
  putManifestBytes,
  repositoryArnOf,
} from "../../support/registry";
import {
  adminCookie,
  expectCsp,
  expectEscaped,
  HOSTILE,
  page,
  PAGE_BUDGET,
  pushChildren,
  pushIndex,
  signInCookie,
} from "./pages";

const READ_ACTIONS = ["ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:BatchGetImage"];

describe("console repository pages", () => {
  it("shows a user limited to team-a/* only those repositories, and 403 on another's pages", async () => {
    const a = await pushImage("team-a/app", "v1");
    const b = await pushImage("team-b/app", "v1");
    const user = await createUser("team-a-reader", allowPolicy(READ_ACTIONS, [repositoryArnOf("team-a/*")]));
    const cookie = await signInCookie(user.accessKeyId, user.secretAccessKey);

    const home = await page("/console", cookie);
    expect(home.status).toBe(200);
    expect(home.text).toContain('href="/console/repositories/team-a/app"');
    expect(home.text).not.toContain("team-b");

    const own = await page("/console/repositories/team-a/app", cookie);
    expect(own.status).toBe(200);
    expectCsp(own);
    expect(own.text).toContain(`href="/console/images/team-a/app@${a.digest}"`);
    expect((await page(`/console/images/team-a/app@${a.digest}`, cookie)).status).toBe(200);

    for (const path of [
      "/console/repositories/team-b/app",
      `/console/images/team-b/app@${b.digest}`,
      // A name that does not exist answers the same: the page never tells what exists.
      "/console/repositories/team-b/missing",
    ]) {
      const refused = await page(path, cookie);
      expect(refused.status, path).toBe(403);
      expectCsp(refused);
      expect(refused.text).not.toContain(b.digest);
    }
    // Allowed, but missing: 404.
    expect((await page("/console/repositories/team-a/missing", cookie)).status).toBe(404);
    expect((await page(`/console/images/team-a/app@${b.digest}`, cookie)).status).toBe(404);

    // Without BatchGetImage the image page (the manifest's contents) is refused, the list is not.
    const describer = await createUser(
      "team-a-describer",
      allowPolicy(["ecr:DescribeImages"], [repositoryArnOf("team-a/*")]),
    );
    const limited = await signInCookie(describer.accessKeyId, describer.secretAccessKey);
    expect((await page("/console/repositories/team-a/app", limited)).status).toBe(200);
    expect((await page(`/console/images/team-a/app@${a.digest}`, limited)).status).toBe(403);
  });

  it("sends a visitor without a session to sign in", async () => {
    const response = await call("GET", "/console/repositories/team-a/app", { anonymous: true });
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe("/console/sign-in?next=%2Fconsole%2Frepositories%2Fteam-a%2Fapp");
  });

  it("shows a multi-arch index's tags, sizes and platforms, and each child's layers and platform", async () => {
    const pushed = await pushIndex("team-a/multi", ["1.0", "latest"]);
    const cookie = await adminCookie();

    const repository = await page("/console/repositories/team-a/multi", cookie);
    expect(repository.status).toBe(200);
    const text = repository.text;
    expect(text).toContain("1.0, latest");
    expect(text).toContain("linux/amd64, linux/arm64/v8");
    const largest = Math.max(pushed.childSizes.amd64, pushed.childSizes.arm64);
    expect(text).toContain(`${largest.toLocaleString("en-US")} B`);
    expect(text).toContain(`href="/console/images/team-a/multi@${pushed.index}"`);
    // The children are listed under their index, unless every manifest is asked for.
    expect(text).not.toContain(`@${pushed.amd64}"`);
    const all = await page("/console/repositories/team-a/multi?show=all", cookie);
    expect(all.text).toContain(`@${pushed.amd64}"`);
    expect(all.text).toContain("linux/arm64/v8");
    expect(text).toContain('href="/console/lifecycle?repository=team-a%2Fmulti"');

    const index = await page(`/console/images/team-a/multi@${pushed.index}`, cookie);
    expect(index.status).toBe(200);
    expectCsp(index);
    expect(index.text).toContain("application/vnd.oci.image.index.v1+json");
    expect(index.text).toContain(`href="/console/images/team-a/multi@${pushed.arm64}"`);
    expect(index.text).toContain("linux/arm64/v8");
    expect(index.text).toContain(`docker pull registry.test/team-a/multi@${pushed.index}`);
    // In the attribute, `&` is written `&amp;`.
    const query = new URLSearchParams({ repository: "team-a/multi", digest: pushed.index })
      .toString()
      .replace("&", "&amp;");
    expect(index.text).toContain(`href="/console/scans?${query}"`);
    expect(index.text).toContain(`href="/console/replication?${query}"`);

    const child = await page(`/console/images/team-a/multi@${pushed.arm64}`, cookie);
    expect(child.status).toBe(200);
    expect(child.text).toContain("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(child.text).toContain("3,000 B");
    // Read from the config blob on the image page.
    expect(child.text).toContain("linux/arm64/v8");
    expect(child.text).toContain(`href="/console/images/team-a/multi@${pushed.index}"`);
  });

  it("shows pushes and recorded pulls, and an image's referrers with their artifact type", async () => {
    const image = await pushImage("team-a/signed", "v1");
    const subject = { mediaType: OCI_MANIFEST, digest: image.digest, size: image.bytes.length };
    await pushBlob("team-a/signed", EMPTY_CONFIG);
    const signatureLayer = bytesOf("signature");
    const signature = bytesOf(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_DIGEST, size: 2 },
        layers: [
          {
            mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
            digest: await pushBlob("team-a/signed", signatureLayer),
            size: signatureLayer.length,
          },
        ],
        subject,
      }),
    );
    const signatureDigest = await digestOf(signature);
    expect((await putManifestBytes("team-a/signed", signatureDigest, signature)).status).toBe(201);
    expect((await call("GET", `/v2/team-a/signed/manifests/v1`)).status).toBe(200);
    const cookie = await adminCookie();

    const list = await page("/console/repositories/team-a/signed", cookie);
    // The signature is a referrer: shown on its subject's page, not as an image of its own.
    expect(list.text).not.toContain(signatureDigest);
    expect(list.text).not.toContain("never");

    const shown = await page(`/console/images/team-a/signed@${image.digest}`, cookie);
    expect(shown.text).toContain(`href="/console/images/team-a/signed@${signatureDigest}"`);
    expect(shown.text).toContain("application/vnd.dev.cosign.artifact.sig.v1+json");
    expect(shown.text).toContain("linux/amd64");
    expect(shown.text).toMatch(/Last pulled<\/dt><dd><time datetime=/);

    const referrer = await page(`/console/images/team-a/signed@${signatureDigest}`, cookie);
    expect(referrer.text).toContain(`href="/console/images/team-a/signed@${image.digest}"`);
  });

  it("escapes hostile annotations and tags", async () => {
    const image = await pushImage("team-a/hostile", "v1", {
      extra: { annotations: { [HOSTILE[0]!]: HOSTILE[1]!, "org.opencontainers.image.title": HOSTILE.join(" ") } },
    });
    // A tag the /v2 grammar would refuse, written straight to D1: the pages must still escape it.
    await env.DB.prepare("INSERT INTO tags (repository, tag, digest, updated_at) VALUES (?, ?, ?, ?)")
      .bind("team-a/hostile", HOSTILE.join(""), image.digest, Date.now())
      .run();
    const cookie = await adminCookie();
    for (const path of ["/console/repositories/team-a/hostile", `/console/images/team-a/hostile@${image.digest}`]) {
      const shown = await page(path, cookie);
      expect(shown.status, path).toBe(200);
      expect(shown.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expectEscaped(shown.text);
    }
  });

  it("keeps a page of 100 images under 60 KB and pages beyond", async () => {
    const name = "team-a/many-images-with-a-rather-long-repository-name";
    await createRepository(name);
    const children = await pushChildren(name);
    for (let at = 0; at <= 100; at += 1)
      await pushIndex(name, [`release-2024.${String(at).padStart(3, "0")}`], { n: String(at) }, children);
    const cookie = await adminCookie();

    const first = await page(`/console/repositories/${name}`, cookie);
    expect(first.status).toBe(200);
    expect(new TextEncoder().encode(first.text).length).toBeLessThan(PAGE_BUDGET);
    const rows = (text: string) => (text.match(/<a class="mono" href="\/console\/images\//g) ?? []).length;
    expect(rows(first.text)).toBe(100);
    const next = /<a href="([^"]+)" rel="next">/.exec(first.text)?.[1];
    expect(next).toBeDefined();
    const second = await page(next!.replace(/&amp;/g, "&"), cookie);
    expect(second.status).toBe(200);
    expect(rows(second.text)).toBe(1);
    expect(second.text).not.toContain('rel="next"');
  });
});
