/**
 * Why a request that finds its repository missing would create it, which chooses the creation
 * template (src/repository/creation-templates.ts): a push from another account is a
 * replication into this registry; any other push is a create-on-push. For `/v2` requests (whose
 * caller the authentication middleware sets); the ECR API creates repositories only by name.
 */
import type { AppContext } from "../app-env";
import { callerIsCrossAccount } from "../auth/authorizer";
import { authConfig } from "../auth/config";
import type { AppliedFor } from "../repository/creation-templates";

export async function pushCreationReason(c: AppContext): Promise<AppliedFor> {
  return callerIsCrossAccount(c, await authConfig(c.var.settings.auth)) ? "REPLICATION" : "CREATE_ON_PUSH";
}
