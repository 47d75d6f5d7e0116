/**
 * Who is calling, as types only: the caller the authentication middleware sets on a request
 * (src/app-env.ts), the principal an access key or login token resolves to (./principals.ts),
 * and the grants a registry token carries (./tokens.ts). A leaf, so the request context can
 * name the caller without importing the authorizer that reads it.
 */
import type { PolicyDocument } from "./policy/document";

export type Caller =
  | { kind: "anonymous" }
  | { kind: "token"; subject: string; userId: string; access: AccessEntry[]; accessKeyId?: string }
  | { kind: "principal"; principal: Principal };

export interface Principal {
  arn: string;
  username: string;
  /** Unique per user ever created; tokens name it so a recreated user name is not the same identity. */
  userId: string;
  accountId: string;
  identityPolicies: PolicyDocument[];
  /**
   * Another account's principal (`arn:aws:iam::<account>:root`): a registry that replicates to
   * this one with a peer account's access key. Only the registry policy grants it anything.
   */
  crossAccount?: true;
}

/** One grant of a registry token: a resource (`repository`, `registry`) and the actions on it. */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}
