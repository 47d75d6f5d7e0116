/**
 * `n`/`last` pagination shared by the tag list, the catalog and the referrers list, with the
 * RFC 5988 `Link` header pointing at the next page. Pure.
 */
import { OciError, RegistryError } from "../errors";

export const DEFAULT_PAGE_SIZE = 1000;
export const MAX_PAGE_SIZE = 10000;

export interface PageRequest {
  /** Page size asked for; 0 means an empty page. */
  limit: number;
  last: string | null;
}

export function readPageRequest(query: URLSearchParams): PageRequest {
  const n = query.get("n");
  const last = query.get("last");
  let limit = DEFAULT_PAGE_SIZE;
  if (n !== null && n !== "") {
    if (!/^\d+$/.test(n))
      throw new RegistryError(OciError.PAGINATION_NUMBER_INVALID, `n must be a non-negative integer, got "${n}"`);
    limit = Math.min(Number(n), MAX_PAGE_SIZE);
  }
  return { limit, last: last === null || last === "" ? null : last };
}

/**
 * Given up to `limit + 1` items fetched after `last`, returns the page and the `Link` header
 * value when more items follow (none for `n=0`, as the spec asks).
 */
export function pageOf<T>(
  items: readonly T[],
  page: PageRequest,
  keyOf: (item: T) => string,
  url: URL,
): { items: T[]; link: string | null } {
  if (page.limit === 0) return { items: [], link: null };
  if (items.length <= page.limit) return { items: [...items], link: null };
  const shown = items.slice(0, page.limit);
  const next = new URL(url.pathname, url.origin);
  for (const [key, value] of url.searchParams) {
    if (key !== "n" && key !== "last") next.searchParams.append(key, value);
  }
  next.searchParams.set("n", String(page.limit));
  next.searchParams.set("last", keyOf(shown[shown.length - 1]!));
  return { items: shown, link: `<${next.pathname}${next.search}>; rel="next"` };
}
