/**
 * Catalog resource: `GET /v2/_catalog` with `n`/`last` pagination.
 */
import type { AppContext } from "../app-env";
import { listRepositoryNames } from "../storage/repository-records";
import { pageOf, readPageRequest } from "./pagination";

export async function getCatalog(c: AppContext): Promise<Response> {
  const url = new URL(c.req.url);
  const page = readPageRequest(url.searchParams);
  const names = await listRepositoryNames(c.get("db"), page.last, page.limit + 1);
  const { items, link } = pageOf(names, page, (name) => name, url);
  const headers = new Headers({ "Content-Type": "application/json" });
  if (link) headers.set("Link", link);
  return new Response(JSON.stringify({ repositories: items }), { status: 200, headers });
}
