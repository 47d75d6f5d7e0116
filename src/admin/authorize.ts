/**
 * Authorization of admin calls: the caller must be a known principal (Basic credentials or a
 * token of a user) whose identity policies allow the action, as the one authorization
 * decision (src/auth/decision.ts) finds with this request's condition keys.
 */
import type { AppContext } from "../app-env";
import { noteAudit } from "../audit/capture";
import { unauthorized } from "../auth/authorizer";
import { authConfig } from "../auth/config";
import { ANY_RESOURCE, authorize, requestFacts, userResource } from "../auth/decision";
import type { Principal } from "../auth/caller";
import { OciError, RegistryError } from "../errors";

/**
 * Admin calls need credentials (an access key, or user `AWS` with a login token): a registry
 * token only carries repository scopes and must not stand for its user's IAM rights.
 */
async function principalOf(c: AppContext): Promise<Principal> {
  const caller = c.get("caller");
  if (caller.kind === "principal") return caller.principal;
  throw unauthorized(
    c,
    await authConfig(c.var.settings.auth),
    null,
    "the admin API needs Basic credentials (an access key or an authorization token)",
  );
}

function denied(action: string, resource: string): RegistryError {
  return new RegistryError(OciError.DENIED, `not allowed to perform ${action} on ${resource}`, { action, resource });
}

/** For IAM-style actions on users (`iam:CreateUser` on `arn:aws:iam::<acct>:user/<name>`) or `*`. */
export async function requireIdentityAction(c: AppContext, action: string, user: string | null): Promise<Principal> {
  noteAudit(c, { eventName: action });
  const principal = await principalOf(c);
  const resource = user === null ? ANY_RESOURCE : userResource(await authConfig(c.var.settings.auth), user);
  if (authorize({ principal, action, resource, request: requestFacts(c.req.raw) }) !== "Allow")
    throw denied(action, resource.arn);
  return principal;
}
