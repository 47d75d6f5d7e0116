/**
 * Catalog resource: `GET /v2/_catalog` with `n`/`last` pagination, listing only the
 * repositories the caller may describe (`ecr:DescribeRepositories`).
 */
import type { AppContext } from "../app-env";
import { unauthorized } from "../auth/authorizer";
import type { Principal } from "../auth/caller";
import { authConfig } from "../auth/config";
import { authorize, repositoryResource, requestFacts } from "../auth/decision";
import { loadTokenPrincipal } from "../auth/principals";
import { listRepositoriesWithFacts } from "../storage/repository-records";
import { pageOf, readPageRequest } from "./pagination";

/** Rows fetched per round while filling a page of visible repositories. */
const BATCH = 200;

/** Whose view of the catalog to show; a token must have been granted the catalog scope. */
async function callerPrincipal(c: AppContext): Promise<Principal | null> {
  const caller = c.get("caller");
  if (caller.kind === "principal") return caller.principal;
  if (caller.kind !== "token") return null;
  const config = await authConfig(c.var.settings.auth);
  const granted = caller.access.some((entry) => entry.type === "registry" && entry.name === "catalog");
  if (!granted)
    throw unauthorized(c, config, "registry:catalog:*", "the token was not granted the catalog", "insufficient_scope");
  if (caller.subject === "") return null;
  return loadTokenPrincipal(c.get("db"), config, { arn: caller.subject, userId: caller.userId });
}

export async function getCatalog(c: AppContext): Promise<Response> {
  const url = new URL(c.req.url);
  const page = readPageRequest(url.searchParams);
  const config = await authConfig(c.var.settings.auth);
  const principal = await callerPrincipal(c);
  const request = requestFacts(c.req.raw);
  const visible: string[] = [];
  let last = page.last;
  while (visible.length <= page.limit) {
    const rows = await listRepositoriesWithFacts(c.get("db"), last, BATCH);
    for (const row of rows) {
      const resource = repositoryResource(config, row.name, row);
      if (authorize({ principal, action: "ecr:DescribeRepositories", resource, request }) === "Allow")
        visible.push(row.name);
    }
    if (rows.length < BATCH) break;
    last = rows[rows.length - 1]!.name;
  }
  const { items, link } = pageOf(visible, page, (name) => name, url);
  const headers = new Headers({ "Content-Type": "application/json" });
  if (link) headers.set("Link", link);
  return new Response(JSON.stringify({ repositories: items }), { status: 200, headers });
}
