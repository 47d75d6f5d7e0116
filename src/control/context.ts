/**
 * What every control-plane action gets: the verified principal, its parsed input, storage,
 * and `authorize`, which asks the one authorization decision (src/auth/decision.ts) as `/v2`
 * and `/admin` do (identity policies, plus the repository's policy for repository actions).
 */
import type { AppContext } from "../app-env";
import type { AuthConfig } from "../auth/config";
import { ANY_RESOURCE, authorize, needsRegistryPolicy, repositoryResource, requestFacts } from "../auth/decision";
import type { Principal } from "../auth/caller";
import { EcrError, RegistryError } from "../errors";
import type { Database } from "../storage/database";
import { findRegistryPolicy } from "../storage/registry-settings";
import { findRepositoryAccessFacts } from "../storage/repository-records";
import type { Input, JsonObject } from "./input";

export interface ControlContext {
  c: AppContext;
  db: Database;
  config: AuthConfig;
  principal: Principal;
  input: Input;
  /** host[:port] clients reach this registry at: repository URIs are `<host>/<name>`. */
  registryHost: string;
  /** Throws AccessDeniedException unless the principal may perform `action` (an `ecr:` name). */
  authorize(action: string, repository: string | null): Promise<void>;
  /** Whether the principal may perform `action` on a repository whose policy and tags are known. */
  allowedOn(action: string, repository: { name: string; policy: string | null; tags: Record<string, string> }): boolean;
}

export type ActionHandler = (ctx: ControlContext) => Promise<JsonObject>;

export function controlContext(c: AppContext, config: AuthConfig, principal: Principal, input: Input): ControlContext {
  const db = c.get("db");
  const request = requestFacts(c.req.raw);
  return {
    c,
    db,
    config,
    principal,
    input,
    registryHost: new URL(c.req.url).host,
    async authorize(action, repository) {
      let resource =
        repository === null
          ? ANY_RESOURCE
          : repositoryResource(config, repository, (await findRepositoryAccessFacts(db, [repository])).get(repository));
      if (repository !== null && needsRegistryPolicy(principal, action))
        resource = { ...resource, registryPolicy: await findRegistryPolicy(db) };
      const decision = authorize({ principal, action, resource, request });
      if (decision !== "Allow") {
        throw new RegistryError(
          EcrError.AccessDeniedException,
          `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource.arn}${decision === "ExplicitDeny" ? " with an explicit deny" : ""}`,
        );
      }
    },
    allowedOn(action, repository) {
      return (
        authorize({ principal, action, resource: repositoryResource(config, repository.name, repository), request }) ===
        "Allow"
      );
    },
  };
}
