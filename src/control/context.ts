/**
 * What every control-plane action gets: the verified principal, its parsed input, storage,
 * and `authorize`, which decides one ECR action with the same policy engine as `/v2`
 * (identity policies, plus the repository's policy for repository actions).
 */
import type { AppContext } from "../app-env";
import { repositoryArn } from "../auth/access";
import { decideRepositoryAction, conditionKeys } from "../auth/authorizer";
import type { AuthConfig } from "../auth/config";
import { evaluate } from "../auth/policy/evaluate";
import type { Principal } from "../auth/principals";
import { EcrError, RegistryError } from "../errors";
import type { Database } from "../storage/database";
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
  return {
    c,
    db,
    config,
    principal,
    input,
    registryHost: new URL(c.req.url).host,
    async authorize(action, repository) {
      const resource = repository === null ? "*" : repositoryArn(config.region, config.accountId, repository);
      const decision =
        repository === null
          ? evaluate(
              {
                caller: { arn: principal.arn, accountId: principal.accountId, username: principal.username },
                action,
                resource,
                keys: conditionKeys(c.req.raw, principal, {}),
              },
              { identity: principal.identityPolicies, resource: [] },
            )
          : decideRepositoryAction(
              config,
              c.req.raw,
              principal,
              repository,
              action,
              (await findRepositoryAccessFacts(db, [repository])).get(repository),
            );
      if (decision !== "Allow") {
        throw new RegistryError(
          EcrError.AccessDeniedException,
          `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource}${decision === "ExplicitDeny" ? " with an explicit deny" : ""}`,
        );
      }
    },
    allowedOn(action, repository) {
      return decideRepositoryAction(config, c.req.raw, principal, repository.name, action, repository) === "Allow";
    },
  };
}
