/**
 * The public gallery inside the runtime: only repositories whose policy lets anyone pull are
 * listed, searched and shown (any other answers 404, as a missing one); a multi-arch index shows
 * its tags, sizes and platforms; hostile catalog texts and tags are escaped; every page carries
 * the CSP; a page of 100 tags stays under 60 KB.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createRepository, pushImage } from "../../support/registry";
import {
  expectCsp,
  expectEscaped,
  HOSTILE,
  makePublic,
  page,
  PAGE_BUDGET,
  pushChildren,
  pushIndex,
  putCatalog,
} from "./pages";

/** A 1×1 PNG. */
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

describe("the gallery", () => {
  it("lists and searches public repositories only; a private one's page is a 404", async () => {
    await createRepository("shared/tools");
    await makePublic("shared/tools");
    await putCatalog("shared/tools", { description: "Handy Utilities for builds" });
    await createRepository("shared/base");
    await makePublic("shared/base");
    await createRepository("secret/app");
    await putCatalog("secret/app", { description: "handy but private" });

    const home = await page("/");
    expect(home.status).toBe(200);
    expectCsp(home);
    expect(home.text).toContain("shared/tools");
    expect(home.text).toContain("Handy Utilities for builds");
    expect(home.text).toContain("shared/base");
    expect(home.text).not.toContain("secret/app");

    // By description, whatever the case; the private repository's description matches too but stays out.
    const search = await page("/?q=HANDY");
    expect(search.text).toContain('href="/gallery/shared/tools"');
    expect(search.text).not.toContain('href="/gallery/shared/base"');
    expect(search.text).not.toContain("secret/app");
    // By name.
    const byName = await page("/?q=base");
    expect(byName.text).toContain('href="/gallery/shared/base"');
    expect(byName.text).not.toContain('href="/gallery/shared/tools"');

    const hidden = await page("/gallery/secret/app");
    expect(hidden.status).toBe(404);
    expectCsp(hidden);
    expect(hidden.text).not.toContain("handy but private");
    // As a repository that does not exist.
    expect((await page("/gallery/no/such")).status).toBe(404);
    expect((await page("/gallery/shared/tools")).status).toBe(200);
  });

  it("shows a multi-arch index's tags, digests, sizes, platforms and pull commands", async () => {
    await createRepository("shared/multi");
    await makePublic("shared/multi");
    await putCatalog("shared/multi", {
      description: "A multi-arch image",
      aboutText: "# About\n\nIt **works**.",
      usageText: "Run `it`.",
      architectures: ["x86-64", "ARM 64"],
      operatingSystems: ["Linux"],
    });
    const pushed = await pushIndex("shared/multi", ["1.0", "latest"]);
    const single = await pushImage("shared/multi", "single");

    const shown = await page("/gallery/shared/multi");
    expect(shown.status).toBe(200);
    expectCsp(shown);
    const text = shown.text;
    expect(text).toContain("Tags (3)");
    for (const tag of ["1.0", "latest", "single"])
      expect(text).toContain(`docker pull registry.test/shared/multi:${tag}`);
    expect(text).toContain(pushed.index);
    expect(text).toContain(single.digest);
    expect(text).toContain("linux/amd64, linux/arm64/v8");
    // An index's size is its largest child's (DescribeImages' imageSizeInBytes), exact and readable.
    const largest = Math.max(pushed.childSizes.amd64, pushed.childSizes.arm64);
    expect(text).toContain(`${largest.toLocaleString("en-US")} B`);
    expect(text).toMatch(/<time datetime="\d{4}-\d\d-\d\dT/);
    // Catalog data: badges and the Markdown texts rendered.
    expect(text).toContain("x86-64");
    expect(text).toContain("ARM 64");
    expect(text).toMatch(/<strong>works<\/strong>/);
    expect(text).toMatch(/<code>it<\/code>/);
    // The single image's platform is not read from its config on a list.
    expect(text).not.toMatch(/<script/i);
  });

  it("escapes hostile catalog texts and tags", async () => {
    await createRepository("shared/hostile");
    await makePublic("shared/hostile");
    await putCatalog("shared/hostile", {
      description: HOSTILE.join(" "),
      aboutText: HOSTILE.join("\n\n"),
      usageText: HOSTILE.join("\n\n"),
      architectures: HOSTILE,
      operatingSystems: HOSTILE,
    });
    const image = await pushImage("shared/hostile", "v1");
    // A tag the /v2 grammar would refuse, written straight to D1: the page must still escape it.
    await env.DB.prepare("INSERT INTO tags (repository, tag, digest, updated_at) VALUES (?, ?, ?, ?)")
      .bind("shared/hostile", HOSTILE.join(""), image.digest, Date.now())
      .run();

    const home = await page("/?q=alert");
    expect(home.text).toContain("shared/hostile");
    expect(home.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expectEscaped(home.text);

    const shown = await page("/gallery/shared/hostile");
    expect(shown.status).toBe(200);
    expect(shown.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expectEscaped(shown.text);
    // The search box echoes the query escaped too.
    const echoed = await page(`/?q=${encodeURIComponent(HOSTILE[1]!)}`);
    expectEscaped(echoed.text);
  });

  it("serves a public repository's logo with its type, and no other's", async () => {
    await createRepository("shared/logo");
    await makePublic("shared/logo");
    await putCatalog("shared/logo", {
      description: "with a logo",
      logoImageBlob: PNG_BASE64,
      logoMediaType: "image/png",
    });
    await createRepository("secret/logo");
    await putCatalog("secret/logo", { logoImageBlob: PNG_BASE64, logoMediaType: "image/png" });
    // Not an image: never served, whatever the stored label says.
    await createRepository("shared/not-an-image");
    await makePublic("shared/not-an-image");
    await putCatalog("shared/not-an-image", {
      logoImageBlob: btoa("<svg onload=alert(1)>"),
      logoMediaType: "image/png",
    });

    const shown = await page("/gallery/shared/logo");
    expect(shown.text).toContain('src="/gallery-logo/shared/logo"');
    const logo = await page("/gallery-logo/shared/logo");
    expect(logo.status).toBe(200);
    expect(logo.headers.get("Content-Type")).toBe("image/png");
    expect(logo.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expectCsp(logo);
    expect((await page("/gallery-logo/secret/logo")).status).toBe(404);
    expect((await page("/gallery-logo/shared/not-an-image")).status).toBe(404);
    expect((await page("/gallery-logo/shared/multi")).status).toBe(404);
  });

  it("keeps a page of 100 tags under 60 KB and pages beyond", async () => {
    const name = "shared/many-tags-with-a-rather-long-repository-name";
    await createRepository(name);
    await makePublic(name);
    const children = await pushChildren(name);
    // 101 distinct indexes (each with two platforms), one tag each: the widest rows there are.
    for (let at = 0; at <= 100; at += 1)
      await pushIndex(name, [`release-2024.${String(at).padStart(3, "0")}`], { n: String(at) }, children);

    const first = await page(`/gallery/${name}`);
    expect(first.status).toBe(200);
    expect(first.text).toContain("Tags (101)");
    expect(new TextEncoder().encode(first.text).length).toBeLessThan(PAGE_BUDGET);
    expect((first.text.match(/<th scope="row">/g) ?? []).length).toBe(100);
    const next = /<a href="([^"]+)" rel="next">/.exec(first.text)?.[1];
    expect(next).toBeDefined();
    const second = await page(next!.replace(/&amp;/g, "&"));
    expect(second.status).toBe(200);
    expect((second.text.match(/<th scope="row">/g) ?? []).length).toBe(1);
    expect(second.text).not.toContain('rel="next"');
  });
});
