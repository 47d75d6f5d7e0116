import { describe, expect, it } from "vitest";
import { OciError, RegistryError } from "../errors";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf, readPageRequest, type PageRequest } from "./pagination";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error to be thrown");
}

describe("readPageRequest", () => {
  it("has the documented limits", () => {
    expect(DEFAULT_PAGE_SIZE).toBe(1000);
    expect(MAX_PAGE_SIZE).toBe(10000);
  });

  it.each<[string, string, PageRequest]>([
    ["no parameters", "", { limit: DEFAULT_PAGE_SIZE, last: null }],
    ["unrelated parameters", "artifactType=x&foo=bar", { limit: DEFAULT_PAGE_SIZE, last: null }],
    ["n=0", "n=0", { limit: 0, last: null }],
    ["n=00", "n=00", { limit: 0, last: null }],
    ["n=1", "n=1", { limit: 1, last: null }],
    ["n=50", "n=50", { limit: 50, last: null }],
    ["leading zeros", "n=007", { limit: 7, last: null }],
    ["n at the maximum", "n=10000", { limit: MAX_PAGE_SIZE, last: null }],
    ["n just above the maximum is clamped", "n=10001", { limit: MAX_PAGE_SIZE, last: null }],
    ["huge n is clamped", "n=99999999999999999999999999", { limit: MAX_PAGE_SIZE, last: null }],
    ["last alone", "last=alpine", { limit: DEFAULT_PAGE_SIZE, last: "alpine" }],
    ["n and last", "n=2&last=v1.0", { limit: 2, last: "v1.0" }],
    ["last before n", "last=v1.0&n=2", { limit: 2, last: "v1.0" }],
    ["empty last", "n=5&last=", { limit: 5, last: null }],
    ["bare last", "last", { limit: DEFAULT_PAGE_SIZE, last: null }],
    ["percent-encoded last", "last=team%2Fweb", { limit: DEFAULT_PAGE_SIZE, last: "team/web" }],
    ["last with a digest", "last=sha256%3Aabc", { limit: DEFAULT_PAGE_SIZE, last: "sha256:abc" }],
    ["repeated n: the first wins", "n=3&n=7", { limit: 3, last: null }],
    ["repeated last: the first wins", "last=a&last=b", { limit: DEFAULT_PAGE_SIZE, last: "a" }],
  ])("%s: ?%s", (_label, query, expected) => {
    expect(readPageRequest(new URLSearchParams(query))).toEqual(expected);
  });

  it.each<[string, string]>([
    ["negative", "n=-1"],
    ["negative zero", "n=-0"],
    ["plus sign", "n=+5"],
    ["fraction", "n=1.5"],
    ["trailing point", "n=5."],
    ["exponent", "n=1e3"],
    ["hex", "n=0x10"],
    ["letters", "n=ten"],
    ["digits then letters", "n=10abc"],
    ["leading space", "n=%205"],
    ["trailing space", "n=5%20"],
    ["plus as space", "n=5+"],
    ["Infinity", "n=Infinity"],
    ["NaN", "n=NaN"],
    ["fullwidth digits", "n=%EF%BC%95"],
  ])("rejects n that is %s (?%s) with PAGINATION_NUMBER_INVALID", (_label, query) => {
    const error = thrown(() => readPageRequest(new URLSearchParams(query)));
    expect(error).toBeInstanceOf(RegistryError);
    const registryError = error as RegistryError;
    expect(registryError.descriptor).toBe(OciError.PAGINATION_NUMBER_INVALID);
    expect(registryError.descriptor.code).toBe("PAGINATION_NUMBER_INVALID");
    expect(registryError.status).toBe(400);
    const n = new URLSearchParams(query).get("n") ?? "";
    expect(registryError.message).toContain(`"${n}"`);
  });
});

describe("pageOf", () => {
  const key = (item: string): string => item;
  const tags = (count: number): string[] => Array.from({ length: count }, (_, i) => `t${String(i).padStart(3, "0")}`);

  it.each<[string, number, number, number, boolean]>([
    // label, items fetched, limit, items shown, has a next page
    ["n=0 with items", 5, 0, 0, false],
    ["n=0 with nothing", 0, 0, 0, false],
    ["nothing to show", 0, 10, 0, false],
    ["fewer items than the limit", 3, 10, 3, false],
    ["exactly the limit", 10, 10, 10, false],
    ["one more than the limit", 11, 10, 10, true],
    ["limit 1, two items", 2, 1, 1, true],
    ["limit 1, one item", 1, 1, 1, false],
  ])("%s: %i items, limit %i → %i shown, next page %s", (_label, fetched, limit, shown, hasNext) => {
    const items = tags(fetched);
    const page = pageOf(items, { limit, last: null }, key, new URL("https://registry.example/v2/repo/tags/list"));
    expect(page.items).toEqual(items.slice(0, shown));
    expect(page.link !== null).toBe(hasNext);
  });

  it("links to the next page after the last item shown", () => {
    const page = pageOf(
      ["a", "b", "c"],
      { limit: 2, last: null },
      key,
      new URL("https://registry.example/v2/repo/tags/list?n=2"),
    );
    expect(page.items).toEqual(["a", "b"]);
    expect(page.link).toBe('</v2/repo/tags/list?n=2&last=b>; rel="next"');
  });

  it("replaces n and last from the request with the page's own", () => {
    const url = new URL("https://registry.example/v2/team/web/tags/list?last=old&n=3");
    const page = pageOf(["d", "e", "f", "g"], { limit: 3, last: "old" }, key, url);
    expect(page.items).toEqual(["d", "e", "f"]);
    expect(page.link).toBe('</v2/team/web/tags/list?n=3&last=f>; rel="next"');
  });

  it("uses the clamped limit, not the n that was asked for", () => {
    const url = new URL("https://registry.example/v2/_catalog?n=50000");
    const request = readPageRequest(url.searchParams);
    const items = tags(MAX_PAGE_SIZE + 1);
    const page = pageOf(items, request, key, url);
    expect(page.items).toHaveLength(MAX_PAGE_SIZE);
    expect(page.link).toBe(`</v2/_catalog?n=${MAX_PAGE_SIZE}&last=${items[MAX_PAGE_SIZE - 1]}>; rel="next"`);
  });

  it("preserves other query parameters such as artifactType", () => {
    const url = new URL(
      "https://registry.example/v2/repo/referrers/sha256:abc?artifactType=application%2Fvnd.example.sbom&n=1",
    );
    const page = pageOf(["x", "y"], { limit: 1, last: null }, key, url);
    expect(page.link).toBe(
      '</v2/repo/referrers/sha256:abc?artifactType=application%2Fvnd.example.sbom&n=1&last=x>; rel="next"',
    );
    const next = new URL(page.link!.slice(1, page.link!.indexOf(">")), url.origin);
    expect(next.searchParams.get("artifactType")).toBe("application/vnd.example.sbom");
  });

  it("keeps repeated unrelated parameters in order", () => {
    const url = new URL("https://registry.example/v2/_catalog?a=1&n=1&a=2&last=zz&b=3");
    const page = pageOf(["p", "q"], { limit: 1, last: "zz" }, key, url);
    expect(page.link).toBe('</v2/_catalog?a=1&a=2&b=3&n=1&last=p>; rel="next"');
  });

  it("encodes the last key so that it round-trips", () => {
    const url = new URL("https://registry.example/v2/_catalog");
    const names = ["team a/web&x=1", "zz"];
    const page = pageOf(names, { limit: 1, last: null }, key, url);
    const target = page.link!.slice(1, page.link!.indexOf(">"));
    expect(target.startsWith("/v2/_catalog?")).toBe(true);
    expect(target).not.toContain(" ");
    const next = new URL(target, url.origin);
    expect(next.searchParams.get("last")).toBe("team a/web&x=1");
    expect(next.searchParams.get("n")).toBe("1");
    expect([...next.searchParams.keys()]).toEqual(["n", "last"]);
  });

  it("uses keyOf for the last item", () => {
    const items = [{ name: "a" }, { name: "b" }, { name: "c" }];
    const page = pageOf(
      items,
      { limit: 2, last: null },
      (item) => `key-${item.name}`,
      new URL("https://r.example/v2/_catalog"),
    );
    expect(page.items).toEqual([{ name: "a" }, { name: "b" }]);
    expect(page.link).toBe('</v2/_catalog?n=2&last=key-b>; rel="next"');
  });

  it("drops the origin and the fragment from the link", () => {
    const page = pageOf(
      ["a", "b"],
      { limit: 1, last: null },
      key,
      new URL("https://r.example:8443/v2/x/tags/list?n=1#frag"),
    );
    expect(page.link).toBe('</v2/x/tags/list?n=1&last=a>; rel="next"');
  });

  it("returns a copy, not the caller's array", () => {
    const items = ["a", "b"];
    const page = pageOf(items, { limit: 5, last: null }, key, new URL("https://r.example/v2/_catalog"));
    expect(page.items).toEqual(items);
    expect(page.items).not.toBe(items);
  });
});
