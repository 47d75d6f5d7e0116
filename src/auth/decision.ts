/**
 * The one authorization decision. Every surface (`/v2`, the ECR API, `/admin`, the token
 * service, the pull-through importer) asks it the same question: may this principal (or an
 * anonymous caller) perform this action on this resource, given the facts of this request?
 * The condition keys policies test (aws:SourceIp, aws:CurrentTime, aws:SecureTransport,
 * aws:PrincipalArn, resource tags, ...) are derived here and nowhere else, so a condition
 * means the same on every surface. Pure: the caller loads the repository's policy and tags.
 */
import type { RepositoryAccessFacts } from "../storage/repository-records";
import { repositoryArn, userArn } from "./access";
import { storedPolicy } from "./policy/cache";
import { evaluate, explainDenial, type Decision, type PolicySet, type RequestContext } from "./policy/evaluate";
import type { Principal } from "./caller";

/** What a request tells policy conditions, taken from the HTTP request by requestFacts. */
export interface RequestFacts {
  /** The client's address as Cloudflare's edge reports it (CF-Connecting-IP); null when absent. */
  sourceIp: string | null;
  secureTransport: boolean;
  at: Date;
}

export function requestFacts(request: Request): RequestFacts {
  return {
    sourceIp: request.headers.get("CF-Connecting-IP"),
    secureTransport: new URL(request.url).protocol === "https:",
    at: new Date(),
  };
}

/** What an action is performed on: its ARN, and its own policy and tags if it has them. */
export interface Resource {
  arn: string;
  /** The resource policy as stored (a repository's), or null. */
  policy: string | null;
  tags: Readonly<Record<string, string>>;
  /**
   * The registry policy (PutRegistryPolicy), loaded by callers that may face a principal of
   * another account (src/storage/registry-settings.ts findRegistryPolicy); absent otherwise.
   */
  registryPolicy?: string | null;
}

/** The account and region ARNs are written in. */
export interface Account {
  accountId: string;
  region: string;
}

/** A repository; `facts` undefined when it does not exist (no policy, no tags). */
export function repositoryResource(account: Account, name: string, facts: RepositoryAccessFacts | undefined): Resource {
  return {
    arn: repositoryArn(account.region, account.accountId, name),
    policy: facts?.policy ?? null,
    tags: facts?.tags ?? {},
  };
}

/** An IAM user of this account (the resource of `iam:` actions on users). */
export function userResource(account: Account, name: string): Resource {
  return { arn: userArn(account.accountId, name), policy: null, tags: {} };
}

/** Actions on no particular resource (registry-wide ones, `iam:ListUsers`, ...). */
export const ANY_RESOURCE: Resource = { arn: "*", policy: null, tags: {} };

export interface AuthorizationRequest {
  /** null = anonymous (who has no identity policies). */
  principal: Principal | null;
  /** An IAM action name, e.g. `ecr:BatchGetImage` or `iam:CreateUser`. */
  action: string;
  resource: Resource;
  request: RequestFacts;
}

/** The actions ECR's registry policy governs; a registry policy naming any other is refused. */
export const REGISTRY_POLICY_ACTIONS: readonly string[] = [
  "ecr:ReplicateImage",
  "ecr:CreateRepository",
  "ecr:BatchImportUpstreamImage",
];

/**
 * Actions the registry policy also decides for this account's own principals, beside their
 * identity policies and the repository's policy: a pull-through cache's import and the
 * repository it creates (ECR: "ecr:BatchImportUpstreamImage in the identity, registry or
 * repository policy").
 */
const REGISTRY_SCOPED_ACTIONS: readonly string[] = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"];

/** Whether deciding `action` for `principal` reads the registry policy (callers load it only then). */
export function needsRegistryPolicy(principal: Principal | null, action: string): boolean {
  return principal?.crossAccount === true || REGISTRY_SCOPED_ACTIONS.includes(action);
}

/**
 * What a principal of another account (a registry replicating here, authenticated with a peer
 * account's access key, src/auth/principals.ts) asks for, as the registry policy names it: the
 * requests a replicating push makes (checking for and uploading blobs, putting manifests) are
 * `ecr:ReplicateImage`, creating a missing repository `ecr:CreateRepository`. Nothing else is
 * ever granted to another account: it may not pull, list or delete.
 */
const CROSS_ACCOUNT_ACTIONS: ReadonlyMap<string, string> = new Map([
  ["ecr:BatchCheckLayerAvailability", "ecr:ReplicateImage"],
  ["ecr:InitiateLayerUpload", "ecr:ReplicateImage"],
  ["ecr:UploadLayerPart", "ecr:ReplicateImage"],
  ["ecr:CompleteLayerUpload", "ecr:ReplicateImage"],
  ["ecr:PutImage", "ecr:ReplicateImage"],
  ["ecr:ReplicateImage", "ecr:ReplicateImage"],
  ["ecr:CreateRepository", "ecr:CreateRepository"],
]);

/** Allow, or which kind of denial: identity policies plus the resource's policy, evaluated as IAM does. */
export function authorize(question: AuthorizationRequest): Decision {
  const crossAccount = crossAccountRequest(question);
  if (crossAccount === "deny") return "ImplicitDeny";
  return evaluate(...policyRequest(crossAccount ?? question));
}

/** Why a denied request is denied, in words for a 403 (see explainDenial). */
export function explain(question: AuthorizationRequest): string {
  const crossAccount = crossAccountRequest(question);
  if (crossAccount === "deny")
    return `${question.action} is not granted to another account (${question.principal?.accountId ?? ""}): only ecr:ReplicateImage and ecr:CreateRepository are, by the registry policy`;
  return explainDenial(...policyRequest(crossAccount ?? question));
}

/**
 * A question from another account's principal, as the registry policy decides it (the
 * repository's own policy and identity policies play no part), or "deny" for what another
 * account is never granted; null for a principal of the resource's own account.
 */
function crossAccountRequest(question: AuthorizationRequest): AuthorizationRequest | "deny" | null {
  const { principal, resource } = question;
  if (principal?.crossAccount !== true) return null;
  const action = CROSS_ACCOUNT_ACTIONS.get(question.action);
  if (action === undefined || !resource.arn.startsWith("arn:") || resource.registryPolicy == null) return "deny";
  return {
    ...question,
    principal: { ...principal, identityPolicies: [] },
    action,
    resource: { ...resource, policy: resource.registryPolicy },
  };
}

function policyRequest({ principal, action, resource, request }: AuthorizationRequest): [RequestContext, PolicySet] {
  return [
    {
      caller: principal ? { arn: principal.arn, accountId: principal.accountId, username: principal.username } : null,
      action,
      resource: resource.arn,
      keys: conditionKeys(request, principal, resource.tags),
    },
    {
      identity: principal?.identityPolicies ?? [],
      resource: [
        ...(resource.policy === null ? [] : [storedPolicy(resource.policy, "resource")]),
        ...(principal?.crossAccount !== true &&
        REGISTRY_SCOPED_ACTIONS.includes(action) &&
        typeof resource.registryPolicy === "string"
          ? [storedPolicy(resource.registryPolicy, "resource")]
          : []),
      ],
    },
  ];
}

/** Condition keys of a request: IAM global keys plus the resource's tags. */
function conditionKeys(
  request: RequestFacts,
  principal: Principal | null,
  tags: Readonly<Record<string, string>>,
): Record<string, string> {
  const keys: Record<string, string> = {
    "aws:CurrentTime": request.at.toISOString(),
    "aws:EpochTime": String(Math.floor(request.at.getTime() / 1000)),
    "aws:SecureTransport": String(request.secureTransport),
    "aws:PrincipalType": principal ? "User" : "Anonymous",
  };
  if (request.sourceIp) keys["aws:SourceIp"] = request.sourceIp;
  if (principal) {
    keys["aws:username"] = principal.username;
    keys["aws:userid"] = principal.username;
    keys["aws:PrincipalArn"] = principal.arn;
    keys["aws:PrincipalAccount"] = principal.accountId;
  }
  for (const [key, value] of Object.entries(tags)) {
    keys[`ecr:ResourceTag/${key}`] = value;
    keys[`aws:ResourceTag/${key}`] = value;
  }
  return keys;
}
