/**
 * What the console and the gallery may show: the one authorization decision of the API
 * (src/auth/decision.ts), asked with the signed-in principal (or anonymous, for the gallery),
 * the same ECR action the API would need, and this request's condition keys.
 */
import type { AppContext } from "../app-env";
import type { Principal } from "../auth/caller";
import { authConfig } from "../auth/config";
import { authorize, repositoryResource, requestFacts } from "../auth/decision";
import { listRepositoriesWithFacts, type RepositoryAccessFacts } from "../storage/repository-records";

/** The most repositories a listing reads (a page of the console or the gallery). */
export const MAX_LISTED_REPOSITORIES = 1000;

export async function allowedOn(
  c: AppContext,
  principal: Principal | null,
  action: string,
  name: string,
  facts: RepositoryAccessFacts | undefined,
): Promise<boolean> {
  const config = await authConfig(c.var.settings.auth);
  return (
    authorize({
      principal,
      action,
      resource: repositoryResource(config, name, facts),
      request: requestFacts(c.req.raw),
    }) === "Allow"
  );
}

/** Repositories (name order) on which `principal` may perform `action`. */
export async function repositoriesAllowed(
  c: AppContext,
  principal: Principal | null,
  action: string,
): Promise<(RepositoryAccessFacts & { name: string })[]> {
  const rows = await listRepositoriesWithFacts(c.get("db"), null, MAX_LISTED_REPOSITORIES);
  const allowed = await Promise.all(rows.map((row) => allowedOn(c, principal, action, row.name, row)));
  return rows.filter((_, index) => allowed[index]);
}

/** Public repositories: those whose policy lets anyone pull (the gallery lists only these). */
export async function isPublic(
  c: AppContext,
  name: string,
  facts: RepositoryAccessFacts | undefined,
): Promise<boolean> {
  return allowedOn(c, null, "ecr:BatchGetImage", name, facts);
}
