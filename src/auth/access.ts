/**
 * The vocabulary of authorization: ECR action names per registry operation, the Docker token
 * scopes (`repository:<name>:pull,push`) and the ECR actions each scope action stands for,
 * and the ARNs policies are written against. Pure.
 */

export type AccessClass = "pull" | "push" | "delete";
export const ACCESS_CLASSES: readonly AccessClass[] = ["pull", "push", "delete"];

/** A token grants a class only when policy allows every ECR action in it. */
export const CLASS_ACTIONS: Record<AccessClass, readonly string[]> = {
  pull: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
  push: [
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
  ],
  delete: ["ecr:BatchDeleteImage"],
};

/** Which token classes let a bearer perform an ECR action on a repository. */
export function classesAllowing(action: string): readonly AccessClass[] {
  switch (action) {
    case "ecr:BatchGetImage":
    case "ecr:GetDownloadUrlForLayer":
    case "ecr:ListImages":
    case "ecr:BatchImportUpstreamImage":
      // A pull through a cache rule imports from the upstream (ECR asks for this action too);
      // a bearer token's pull covers it, a policy decides it for signed callers.
      return ["pull"];
    case "ecr:BatchCheckLayerAvailability":
      return ["pull", "push"];
    case "ecr:InitiateLayerUpload":
    case "ecr:UploadLayerPart":
    case "ecr:CompleteLayerUpload":
    case "ecr:PutImage":
      return ["push"];
    case "ecr:BatchDeleteImage":
      return ["delete"];
    default:
      return [];
  }
}

/** The scope actions a client should ask for to perform an ECR action (for challenges). */
export function challengeActions(action: string): string {
  const classes = classesAllowing(action);
  if (classes.includes("push") && !classes.includes("pull")) return "pull,push";
  return classes[0] ?? "pull";
}

export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Parses one scope, `type:name:actions`. The name may itself contain `:` (a `host:port`
 * prefix), so the type ends at the first colon and the actions start after the last.
 */
export function parseScope(value: string): Scope | null {
  const first = value.indexOf(":");
  const last = value.lastIndexOf(":");
  if (first <= 0 || last === first) return null;
  const type = value.slice(0, first);
  const name = value.slice(first + 1, last);
  const actions = value
    .slice(last + 1)
    .split(",")
    .map((action) => action.trim())
    .filter((action) => action !== "");
  if (name === "" || actions.length === 0) return null;
  return { type, name, actions };
}

/**
 * Most scopes one token request may ask for. Clients ask for a handful (a pull, a push with a
 * cross-repository mount names two repositories); the bound keeps what one request makes the
 * token service look up and sign small.
 */
export const MAX_SCOPES_PER_REQUEST = 50;
/** Most actions one scope may list (the known ones are pull, push, delete and `*`). */
export const MAX_ACTIONS_PER_SCOPE = 10;

/**
 * Scopes from repeated `scope=` parameters, each of which may hold several space-separated
 * scopes, or what is over the limits above. Every scope is counted, including those that do
 * not parse, so a request cannot hide work behind malformed ones.
 */
export function parseScopes(values: readonly string[]): { scopes: Scope[] } | { refused: string } {
  const texts = values.flatMap((value) => value.split(" ")).filter((value) => value !== "");
  if (texts.length > MAX_SCOPES_PER_REQUEST) {
    return {
      refused: `${texts.length} scopes requested; at most ${MAX_SCOPES_PER_REQUEST} are allowed per token request`,
    };
  }
  const scopes = texts.map(parseScope).filter((scope): scope is Scope => scope !== null);
  const crowded = scopes.find((scope) => scope.actions.length > MAX_ACTIONS_PER_SCOPE);
  if (crowded)
    return {
      refused: `a scope lists ${crowded.actions.length} actions; at most ${MAX_ACTIONS_PER_SCOPE} are allowed per scope`,
    };
  return { scopes };
}

export function repositoryArn(region: string, accountId: string, name: string): string {
  return `arn:aws:ecr:${region}:${accountId}:repository/${name}`;
}

export function userArn(accountId: string, name: string): string {
  return `arn:aws:iam::${accountId}:user/${name}`;
}
