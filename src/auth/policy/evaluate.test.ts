import { describe, expect, it } from "vitest";
import { parsePolicyDocument, type PolicyDocument } from "./document";
import { evaluate, matchesPattern, type Caller, type Decision, type RequestContext } from "./evaluate";

const ACCOUNT = "123456789012";
const OTHER_ACCOUNT = "210987654321";
const ALICE: Caller = { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT, username: "alice" };
const BOB: Caller = { arn: `arn:aws:iam::${ACCOUNT}:user/dev/bob`, accountId: ACCOUNT, username: "bob" };
const MALLORY: Caller = {
  arn: `arn:aws:iam::${OTHER_ACCOUNT}:user/mallory`,
  accountId: OTHER_ACCOUNT,
  username: "mallory",
};
const ANONYMOUS = null;

function repo(name: string): string {
  return `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${name}`;
}

const WEB = repo("team-a/web");
const PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"];

type Json = Record<string, unknown>;

function document(kind: "identity" | "resource", statements: Json[], version = "2012-10-17"): PolicyDocument {
  return parsePolicyDocument(JSON.stringify({ Version: version, Statement: statements }), kind);
}

/** Identity statements default to Resource "*"; resource statements to Principal "*". */
function identity(...statements: Json[]): PolicyDocument {
  return document(
    "identity",
    statements.map((s) => ({ Resource: "*", ...s })),
  );
}

function resource(...statements: Json[]): PolicyDocument {
  return document(
    "resource",
    statements.map((s) => ({ Principal: "*", ...s })),
  );
}

const allow = (action: unknown, extra: Json = {}): Json => ({ Effect: "Allow", Action: action, ...extra });
const deny = (action: unknown, extra: Json = {}): Json => ({ Effect: "Deny", Action: action, ...extra });

interface Case {
  caller?: Caller | null;
  action?: string;
  resource?: string;
  keys?: RequestContext["keys"];
  identity?: PolicyDocument[];
  repository?: PolicyDocument[];
}

function decide(c: Case): Decision {
  const request: RequestContext = {
    caller: c.caller === undefined ? ALICE : c.caller,
    action: c.action ?? "ecr:BatchGetImage",
    resource: c.resource ?? WEB,
    keys: c.keys ?? {},
  };
  return evaluate(request, { identity: c.identity ?? [], resource: c.repository ?? [] });
}

function table(cases: [string, Case, Decision][]): void {
  it.each(cases)("%s", (_name, c, expected) => {
    expect(decide(c)).toBe(expected);
  });
}

const PUBLIC_PULL = resource({ Sid: "PublicPull", ...allow(PULL) });

describe("evaluate: combining identity and repository policies", () => {
  table([
    ["no policies: implicit deny", {}, "ImplicitDeny"],
    ["identity Allow alone", { identity: [identity(allow("ecr:BatchGetImage"))] }, "Allow"],
    [
      "repository Allow alone",
      { repository: [resource(allow("ecr:BatchGetImage", { Principal: { AWS: ALICE.arn } }))] },
      "Allow",
    ],
    [
      "identity Allow + repository Deny",
      { identity: [identity(allow("ecr:*"))], repository: [resource(deny("ecr:BatchGetImage"))] },
      "ExplicitDeny",
    ],
    [
      "repository Allow + identity Deny",
      { identity: [identity(deny("ecr:BatchGetImage"))], repository: [resource(allow("ecr:*"))] },
      "ExplicitDeny",
    ],
    ["Deny beside Allow in one policy", { identity: [identity(allow("*"), deny("ecr:Batch*"))] }, "ExplicitDeny"],
    [
      "Deny in a second identity policy",
      { identity: [identity(allow("ecr:*")), identity(deny("ecr:BatchGetImage"))] },
      "ExplicitDeny",
    ],
    ["Allow for another action only", { identity: [identity(allow("ecr:PutImage"))] }, "ImplicitDeny"],
    ["Deny for another action does not deny", { identity: [identity(allow("ecr:*"), deny("ecr:PutImage"))] }, "Allow"],
    [
      "anonymous caller has no identity policies",
      { caller: ANONYMOUS, identity: [identity(allow("*"))] },
      "ImplicitDeny",
    ],
  ]);
});

describe("evaluate: principals in repository policies", () => {
  const byAccount = resource(allow(PULL, { Principal: { AWS: ACCOUNT } }));
  const byRoot = resource(allow(PULL, { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }));
  const byUser = resource(allow(PULL, { Principal: { AWS: [ALICE.arn] } }));
  const everyoneButAlice = resource(
    allow("ecr:*"),
    deny("ecr:*", { Principal: undefined, NotPrincipal: { AWS: ALICE.arn } }),
  );
  table([
    ["public pull: anonymous BatchGetImage", { caller: ANONYMOUS, repository: [PUBLIC_PULL] }, "Allow"],
    [
      "public pull: anonymous layer download",
      { caller: ANONYMOUS, action: "ecr:GetDownloadUrlForLayer", repository: [PUBLIC_PULL] },
      "Allow",
    ],
    [
      "public pull: anonymous push is not allowed",
      { caller: ANONYMOUS, action: "ecr:PutImage", repository: [PUBLIC_PULL] },
      "ImplicitDeny",
    ],
    [
      "public push when the policy says so",
      {
        caller: ANONYMOUS,
        action: "ecr:PutImage",
        repository: [resource(allow(["ecr:PutImage", ...PULL], { Principal: { AWS: "*" } }))],
      },
      "Allow",
    ],
    [
      "Principal * covers authenticated callers of other accounts",
      { caller: MALLORY, repository: [PUBLIC_PULL] },
      "Allow",
    ],
    ["account id: user of the account", { caller: BOB, repository: [byAccount] }, "Allow"],
    ["account id: user of another account", { caller: MALLORY, repository: [byAccount] }, "ImplicitDeny"],
    ["account id: anonymous", { caller: ANONYMOUS, repository: [byAccount] }, "ImplicitDeny"],
    ["root ARN: user of the account", { caller: ALICE, repository: [byRoot] }, "Allow"],
    ["root ARN: user of another account", { caller: MALLORY, repository: [byRoot] }, "ImplicitDeny"],
    ["user ARN: that user", { caller: ALICE, repository: [byUser] }, "Allow"],
    ["user ARN: another user of the account", { caller: BOB, repository: [byUser] }, "ImplicitDeny"],
    [
      "NotPrincipal Deny: listed user is exempt",
      { caller: ALICE, action: "ecr:PutImage", repository: [everyoneButAlice] },
      "Allow",
    ],
    [
      "NotPrincipal Deny: other user is denied",
      { caller: BOB, action: "ecr:PutImage", repository: [everyoneButAlice] },
      "ExplicitDeny",
    ],
    [
      "NotPrincipal Deny: anonymous is not listed",
      { caller: ANONYMOUS, repository: [everyoneButAlice] },
      "ExplicitDeny",
    ],
    [
      "NotPrincipal * applies to nobody",
      {
        caller: ANONYMOUS,
        repository: [PUBLIC_PULL, resource(deny("ecr:*", { Principal: undefined, NotPrincipal: { AWS: "*" } }))],
      },
      "Allow",
    ],
    [
      "NotPrincipal Allow: everyone except the listed account",
      {
        caller: ALICE,
        repository: [resource(allow("ecr:*", { Principal: undefined, NotPrincipal: { AWS: OTHER_ACCOUNT } }))],
      },
      "Allow",
    ],
    // No AWS service calls this registry: a service principal names none of its callers.
    [
      "Service principal: grants no user",
      { caller: ALICE, repository: [resource(allow(PULL, { Principal: { Service: "lambda.amazonaws.com" } }))] },
      "ImplicitDeny",
    ],
    [
      "Service principal: grants no anonymous caller",
      { caller: ANONYMOUS, repository: [resource(allow(PULL, { Principal: { Service: "lambda.amazonaws.com" } }))] },
      "ImplicitDeny",
    ],
    [
      "Service principal beside AWS: the AWS entries still apply",
      {
        caller: ALICE,
        repository: [resource(allow(PULL, { Principal: { Service: "codebuild.amazonaws.com", AWS: ALICE.arn } }))],
      },
      "Allow",
    ],
    [
      "Service principal in a Deny: denies no user",
      {
        caller: ALICE,
        repository: [PUBLIC_PULL, resource(deny("ecr:*", { Principal: { Service: "lambda.amazonaws.com" } }))],
      },
      "Allow",
    ],
    [
      "NotPrincipal naming a service: excludes no user",
      {
        caller: ALICE,
        repository: [
          PUBLIC_PULL,
          resource(deny("ecr:*", { Principal: undefined, NotPrincipal: { Service: "lambda.amazonaws.com" } })),
        ],
      },
      "ExplicitDeny",
    ],
  ]);
});

describe("evaluate: actions", () => {
  table([
    ["ecr:* matches any ECR action", { action: "ecr:PutImage", identity: [identity(allow("ecr:*"))] }, "Allow"],
    ["* matches every action", { action: "s3:GetObject", identity: [identity(allow("*"))] }, "Allow"],
    ["ecr:Batch* matches BatchGetImage", { identity: [identity(allow("ecr:Batch*"))] }, "Allow"],
    [
      "ecr:Batch* does not match GetAuthorizationToken",
      { action: "ecr:GetAuthorizationToken", identity: [identity(allow("ecr:Batch*"))] },
      "ImplicitDeny",
    ],
    [
      "ecr:Get*Layer matches GetDownloadUrlForLayer",
      { action: "ecr:GetDownloadUrlForLayer", identity: [identity(allow("ecr:Get*Layer"))] },
      "Allow",
    ],
    [
      "ecr:Get*Layer? needs one more character",
      { action: "ecr:GetDownloadUrlForLayer", identity: [identity(allow("ecr:Get*Layer?"))] },
      "ImplicitDeny",
    ],
    [
      "ecr:*LayerPar? matches UploadLayerPart",
      { action: "ecr:UploadLayerPart", identity: [identity(allow("ecr:*LayerPar?"))] },
      "Allow",
    ],
    [
      "action matching is case-insensitive",
      { action: "ECR:batchgetimage", identity: [identity(allow("ecr:BatchGetImage"))] },
      "Allow",
    ],
    ["another service's wildcard", { identity: [identity(allow("s3:*"))] }, "ImplicitDeny"],
    [
      "NotAction allows what is not listed",
      { identity: [identity({ Effect: "Allow", NotAction: "ecr:Delete*" })] },
      "Allow",
    ],
    [
      "NotAction does not allow what is listed",
      { action: "ecr:DeleteRepository", identity: [identity({ Effect: "Allow", NotAction: ["ecr:Delete*"] })] },
      "ImplicitDeny",
    ],
    [
      "Deny NotAction: everything but pull is denied",
      { action: "ecr:PutImage", identity: [identity(allow("ecr:*"), { Effect: "Deny", NotAction: PULL })] },
      "ExplicitDeny",
    ],
    [
      "Deny NotAction: pull still allowed",
      { identity: [identity(allow("ecr:*"), { Effect: "Deny", NotAction: PULL })] },
      "Allow",
    ],
  ]);
});

describe("evaluate: resources and policy variables", () => {
  const teamA = identity(allow("ecr:*", { Resource: repo("team-a/*") }));
  const own = identity(allow("ecr:*", { Resource: repo("${aws:username}/*") }));
  table([
    ["repository/team-a/* matches team-a/web", { identity: [teamA] }, "Allow"],
    [
      "repository/team-a/* does not match team-b/web",
      { resource: repo("team-b/web"), identity: [teamA] },
      "ImplicitDeny",
    ],
    [
      "resource matching is case-sensitive",
      { identity: [identity(allow("ecr:*", { Resource: repo("Team-A/*") }))] },
      "ImplicitDeny",
    ],
    [
      "? matches one character",
      { resource: repo("team-b/web"), identity: [identity(allow("ecr:*", { Resource: repo("team-?/web") }))] },
      "Allow",
    ],
    [
      "wildcard region and account",
      { identity: [identity(allow("ecr:*", { Resource: "arn:aws:ecr:*:*:repository/*" }))] },
      "Allow",
    ],
    [
      "NotResource excludes the listed repository",
      { identity: [identity(allow("ecr:*", { Resource: undefined, NotResource: WEB }))] },
      "ImplicitDeny",
    ],
    [
      "NotResource allows other repositories",
      {
        resource: repo("team-b/web"),
        identity: [identity(allow("ecr:*", { Resource: undefined, NotResource: [WEB] }))],
      },
      "Allow",
    ],
    [
      "absent Resource in a repository policy covers the repository",
      { repository: [resource(allow("ecr:*"))] },
      "Allow",
    ],
    [
      "repository policy Resource for another repository",
      { repository: [resource(allow("ecr:*", { Resource: repo("team-b/*") }))] },
      "ImplicitDeny",
    ],
    [
      "${aws:username} in Resource: own namespace",
      { caller: ALICE, resource: repo("alice/app"), identity: [own] },
      "Allow",
    ],
    [
      "${aws:username} in Resource: someone else's",
      { caller: BOB, resource: repo("alice/app"), identity: [own] },
      "ImplicitDeny",
    ],
    [
      "${aws:username} is literal in a 2008-10-17 policy",
      {
        resource: repo("alice/app"),
        identity: [document("identity", [allow("ecr:*", { Resource: repo("${aws:username}/*") })], "2008-10-17")],
      },
      "ImplicitDeny",
    ],
    [
      "variable from request keys, case-insensitive",
      {
        keys: { "aws:PrincipalTag/Team": "team-a" },
        identity: [identity(allow("ecr:*", { Resource: repo("${aws:principaltag/team}/*") }))],
      },
      "Allow",
    ],
    [
      "unresolvable variable does not match",
      { identity: [identity(allow("ecr:*", { Resource: repo("${aws:PrincipalTag/team}/*") }))] },
      "ImplicitDeny",
    ],
    [
      "unresolvable variable in NotResource does not match, so NotResource applies",
      {
        identity: [identity(allow("ecr:*", { Resource: undefined, NotResource: repo("${aws:PrincipalTag/team}/*") }))],
      },
      "Allow",
    ],
    [
      "${*} is a literal star",
      { resource: repo("team-a/web"), identity: [identity(allow("ecr:*", { Resource: repo("team-a/${*}") }))] },
      "ImplicitDeny",
    ],
    [
      "${*} matches a literal star",
      { resource: repo("team-a/*"), identity: [identity(allow("ecr:*", { Resource: repo("team-a/${*}") }))] },
      "Allow",
    ],
    [
      "variable values are literal, not wildcards",
      {
        keys: { "aws:PrincipalTag/team": "*" },
        identity: [identity(allow("ecr:*", { Resource: repo("${aws:PrincipalTag/team}/web") }))],
      },
      "ImplicitDeny",
    ],
    [
      "request keys cannot override the caller's user name",
      { caller: BOB, resource: repo("alice/app"), keys: { "aws:username": "alice" }, identity: [own] },
      "ImplicitDeny",
    ],
  ]);
});

describe("evaluate: conditions", () => {
  const when = (condition: Json, effect: "Allow" | "Deny" = "Allow"): PolicyDocument =>
    effect === "Allow"
      ? identity(allow("ecr:*", { Condition: condition }))
      : identity(allow("ecr:*"), deny("ecr:*", { Condition: condition }));
  const office = when({ IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"] } });
  const onlyOffice = when({ NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }, "Deny");
  const tagged = when({ StringEquals: { "ecr:ResourceTag/team": "a" } });
  const tagKeysAny = when({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["team", "env"] } });
  const tagKeysAll = when({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "env"] } });
  table([
    ["IpAddress: inside the IPv4 block", { keys: { "aws:SourceIp": "10.1.2.3" }, identity: [office] }, "Allow"],
    ["IpAddress: outside", { keys: { "aws:SourceIp": "192.168.0.1" }, identity: [office] }, "ImplicitDeny"],
    ["IpAddress: inside the IPv6 block", { keys: { "aws:SourceIp": "2001:db8:1::5" }, identity: [office] }, "Allow"],
    [
      "IpAddress: IPv4-mapped IPv6 is not IPv4",
      { keys: { "aws:SourceIp": "::ffff:10.1.2.3" }, identity: [office] },
      "ImplicitDeny",
    ],
    ["IpAddress: missing key", { identity: [office] }, "ImplicitDeny"],
    [
      "NotIpAddress Deny: from outside",
      { keys: { "aws:SourceIp": "192.168.0.1" }, identity: [onlyOffice] },
      "ExplicitDeny",
    ],
    ["NotIpAddress Deny: from inside", { keys: { "aws:SourceIp": "10.9.9.9" }, identity: [onlyOffice] }, "Allow"],
    [
      "NotIpAddress Deny: IPv6 source is outside an IPv4 block",
      { keys: { "aws:SourceIp": "2001:db8::1" }, identity: [onlyOffice] },
      "ExplicitDeny",
    ],
    ["NotIpAddress Deny: missing key (negated is true)", { identity: [onlyOffice] }, "ExplicitDeny"],
    [
      "StringLike on aws:username: match",
      { caller: ALICE, identity: [when({ StringLike: { "aws:username": "al*" } })] },
      "Allow",
    ],
    [
      "StringLike on aws:username: no match",
      { caller: BOB, identity: [when({ StringLike: { "aws:username": "al*" } })] },
      "ImplicitDeny",
    ],
    [
      "StringNotLike: no match holds",
      { caller: BOB, identity: [when({ StringNotLike: { "aws:username": ["al*", "car?l"] } })] },
      "Allow",
    ],
    [
      "StringEquals on ecr:ResourceTag/team: equal",
      { keys: { "ecr:ResourceTag/team": "a" }, identity: [tagged] },
      "Allow",
    ],
    [
      "StringEquals on ecr:ResourceTag/team: different",
      { keys: { "ecr:ResourceTag/team": "b" }, identity: [tagged] },
      "ImplicitDeny",
    ],
    ["StringEquals is case-sensitive", { keys: { "ecr:ResourceTag/team": "A" }, identity: [tagged] }, "ImplicitDeny"],
    [
      "StringEqualsIgnoreCase",
      {
        keys: { "ecr:ResourceTag/team": "A" },
        identity: [when({ StringEqualsIgnoreCase: { "ecr:ResourceTag/team": "a" } })],
      },
      "Allow",
    ],
    [
      "condition key names are case-insensitive",
      { keys: { "ECR:RESOURCETAG/TEAM": "a" }, identity: [tagged] },
      "Allow",
    ],
    [
      "StringNotEquals: missing key is true",
      { identity: [when({ StringNotEquals: { "ecr:ResourceTag/team": "b" } })] },
      "Allow",
    ],
    [
      "StringEquals with ${aws:username} in the value",
      {
        keys: { "ecr:ResourceTag/owner": "alice" },
        identity: [when({ StringEquals: { "ecr:ResourceTag/owner": "${aws:username}" } })],
      },
      "Allow",
    ],
    [
      "Bool aws:SecureTransport false: Deny",
      {
        keys: { "aws:SecureTransport": "false" },
        identity: [when({ Bool: { "aws:SecureTransport": "false" } }, "Deny")],
      },
      "ExplicitDeny",
    ],
    [
      "Bool aws:SecureTransport true: not denied",
      { keys: { "aws:SecureTransport": "TRUE" }, identity: [when({ Bool: { "aws:SecureTransport": false } }, "Deny")] },
      "Allow",
    ],
    ["Bool: missing key is false", { identity: [when({ Bool: { "aws:SecureTransport": "true" } })] }, "ImplicitDeny"],
    [
      "DateLessThan: before",
      {
        keys: { "aws:CurrentTime": "2029-12-31T23:59:59Z" },
        identity: [when({ DateLessThan: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } })],
      },
      "Allow",
    ],
    [
      "DateLessThan: after",
      {
        keys: { "aws:CurrentTime": "2030-01-01T00:00:00Z" },
        identity: [when({ DateLessThan: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } })],
      },
      "ImplicitDeny",
    ],
    [
      "DateLessThan: epoch seconds against ISO",
      {
        keys: { "aws:EpochTime": "1893455999" },
        identity: [when({ DateLessThan: { "aws:EpochTime": "2030-01-01T00:00:00Z" } })],
      },
      "Allow",
    ],
    [
      "DateGreaterThan with offsets compares instants",
      {
        keys: { "aws:CurrentTime": "2030-01-01T01:30:00+02:00" },
        identity: [when({ DateGreaterThan: { "aws:CurrentTime": "2029-12-31T23:00:00Z" } })],
      },
      "Allow",
    ],
    [
      "NumericLessThanEquals",
      { keys: { "ecr:ImageCount": "10" }, identity: [when({ NumericLessThanEquals: { "ecr:ImageCount": 10 } })] },
      "Allow",
    ],
    [
      "NumericGreaterThan: not a number",
      { keys: { "ecr:ImageCount": "many" }, identity: [when({ NumericGreaterThan: { "ecr:ImageCount": 1 } })] },
      "ImplicitDeny",
    ],
    [
      "IfExists: missing key is true",
      { identity: [when({ StringEqualsIfExists: { "ecr:ResourceTag/team": "a" } })] },
      "Allow",
    ],
    [
      "IfExists: present key must match",
      {
        keys: { "ecr:ResourceTag/team": "b" },
        identity: [when({ StringEqualsIfExists: { "ecr:ResourceTag/team": "a" } })],
      },
      "ImplicitDeny",
    ],
    [
      "Null true: Deny when the tag is missing",
      { identity: [when({ Null: { "ecr:ResourceTag/team": "true" } }, "Deny")] },
      "ExplicitDeny",
    ],
    [
      "Null true: not denied when the tag is present",
      { keys: { "ecr:ResourceTag/team": "a" }, identity: [when({ Null: { "ecr:ResourceTag/team": "true" } }, "Deny")] },
      "Allow",
    ],
    [
      "Null false: key present",
      { keys: { "ecr:ResourceTag/team": "a" }, identity: [when({ Null: { "ecr:ResourceTag/team": false } })] },
      "Allow",
    ],
    ["ForAnyValue: one value listed", { keys: { "aws:TagKeys": ["owner", "team"] }, identity: [tagKeysAny] }, "Allow"],
    ["ForAnyValue: none listed", { keys: { "aws:TagKeys": ["owner"] }, identity: [tagKeysAny] }, "ImplicitDeny"],
    ["ForAnyValue: missing key is false", { identity: [tagKeysAny] }, "ImplicitDeny"],
    ["ForAllValues: all listed", { keys: { "aws:TagKeys": ["team", "env"] }, identity: [tagKeysAll] }, "Allow"],
    [
      "ForAllValues: one not listed",
      { keys: { "aws:TagKeys": ["team", "owner"] }, identity: [tagKeysAll] },
      "ImplicitDeny",
    ],
    ["ForAllValues: missing key is true", { identity: [tagKeysAll] }, "Allow"],
    ["ForAllValues: empty list is true", { keys: { "aws:TagKeys": [] }, identity: [tagKeysAll] }, "Allow"],
    [
      "ForAllValues:StringNotEquals: no value may be listed",
      {
        keys: { "aws:TagKeys": ["owner", "env"] },
        identity: [when({ "ForAllValues:StringNotEquals": { "aws:TagKeys": ["team", "env"] } })],
      },
      "ImplicitDeny",
    ],
    [
      "ArnLike on aws:PrincipalArn: account users",
      { caller: BOB, identity: [when({ ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:user/*` } })] },
      "Allow",
    ],
    [
      "ArnLike: a pattern of fewer than six parts matches the whole ARN",
      { caller: ALICE, identity: [when({ ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*" } })] },
      "Allow",
    ],
    [
      "ArnEquals: per-part wildcards",
      { caller: MALLORY, identity: [when({ ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:user/*` } })] },
      "ImplicitDeny",
    ],
    [
      "two operators are ANDed",
      {
        keys: { "aws:SourceIp": "10.0.0.1", "ecr:ResourceTag/team": "b" },
        identity: [
          when({ IpAddress: { "aws:SourceIp": "10.0.0.0/8" }, StringEquals: { "ecr:ResourceTag/team": "a" } }),
        ],
      },
      "ImplicitDeny",
    ],
    [
      "two keys under one operator are ANDed",
      {
        keys: { "ecr:ResourceTag/team": "a" },
        identity: [when({ StringEquals: { "ecr:ResourceTag/team": "a", "ecr:ResourceTag/env": "prod" } })],
      },
      "ImplicitDeny",
    ],
    [
      "values of one key are ORed",
      {
        keys: { "ecr:ResourceTag/team": "b" },
        identity: [when({ StringEquals: { "ecr:ResourceTag/team": ["a", "b"] } })],
      },
      "Allow",
    ],
    [
      "conditions in a public repository policy",
      {
        caller: ANONYMOUS,
        keys: { "aws:SourceIp": "10.0.0.1" },
        repository: [resource(allow(PULL, { Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }))],
      },
      "Allow",
    ],
  ]);
});

describe("matchesPattern", () => {
  it.each<[string, string, boolean, boolean]>([
    ["*", "", false, true],
    ["*", "anything", false, true],
    ["a?c", "abc", false, true],
    ["a?c", "ac", false, false],
    ["a*b*c", "aXXbYYc", false, true],
    ["a*b*c", "aXXbYY", false, false],
    ["*ab", "aab", false, true],
    ["a.c", "abc", false, false], // regex metacharacters are literal
    ["(a+)+$", "(a+)+$", false, true],
    ["[ab]", "a", false, false],
    ["ECR:Get*", "ecr:GetAuthorizationToken", true, true],
    ["ECR:Get*", "ecr:GetAuthorizationToken", false, false],
    ["a*a*a*a*a*a*b", "a".repeat(5_000), false, false], // no catastrophic backtracking
  ])("%s vs %s (ci=%s): %s", (pattern, value, caseInsensitive, expected) => {
    expect(matchesPattern(pattern, value, caseInsensitive)).toBe(expected);
  });
});
