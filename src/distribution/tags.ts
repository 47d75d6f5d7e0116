/**
 * Tag list resource: `GET /v2/<name>/tags/list` with `n`/`last` pagination.
 */
import type { AppContext } from "../app-env";
import { OciError, RegistryError } from "../errors";
import { listTags } from "../storage/manifest-records";
import { pageOf, readPageRequest } from "./pagination";

export async function getTags(c: AppContext, name: string): Promise<Response> {
  const url = new URL(c.req.url);
  const page = readPageRequest(url.searchParams);
  const found = await listTags(c.get("db"), name, page.last, page.limit + 1);
  if (!found.repositoryExists) {
    throw new RegistryError(OciError.NAME_UNKNOWN, `repository ${name} is not known to the registry`, { name });
  }
  const { items, link } = pageOf(found.tags, page, (tag) => tag, url);
  const headers = new Headers({ "Content-Type": "application/json" });
  if (link) headers.set("Link", link);
  return new Response(JSON.stringify({ name, tags: items }), { status: 200, headers });
}
