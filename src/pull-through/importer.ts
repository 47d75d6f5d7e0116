/**
 * Who imports content from an upstream, and how their right to do so is decided. A first
 * pull through a cache rule needs `ecr:BatchImportUpstreamImage` on the repository and, while
 * the repository does not exist yet, `ecr:CreateRepository` (as ECR asks). On `/v2` a signed
 * or Basic caller is decided by policy, while a bearer token's `pull` (already checked by
 * the router) covers both, as a token's `push` covers create-on-push. On the control plane
 * the ECR caller's policies decide.
 */
import type { AppContext } from "../app-env";
import { requireRepositoryAccess } from "../auth/authorizer";
import { authConfig } from "../auth/config";
import { findRepository } from "../storage/repository-records";

export interface Importer {
  /** Written to the audit trail: a principal ARN, a token's subject, or `anonymous`. */
  actor: string;
  /** Throws the surface's refusal unless the importer may perform `action` on `repository`. */
  authorize(action: string, repository: string): Promise<void>;
}

/** The `/v2` caller as an importer. */
export function distributionImporter(c: AppContext): Importer {
  const caller = c.get("caller");
  const actor =
    caller.kind === "principal"
      ? caller.principal.arn
      : caller.kind === "token" && caller.subject !== ""
        ? caller.subject
        : "anonymous";
  return {
    actor,
    async authorize(action, repository) {
      if (caller.kind === "token") return;
      await requireRepositoryAccess(c, await authConfig(c.var.settings.auth), repository, action);
    },
  };
}

/** Checks the importer may bring upstream content into `repository` (creating it if need be). */
export async function authorizeImport(c: AppContext, importer: Importer, repository: string): Promise<void> {
  await importer.authorize("ecr:BatchImportUpstreamImage", repository);
  if ((await findRepository(c.get("db"), repository)) === undefined)
    await importer.authorize("ecr:CreateRepository", repository);
}
