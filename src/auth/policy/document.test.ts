import { describe, expect, it } from "vitest";
import { parseInstant, parsePolicyDocument, PolicyError, type PolicyDocument, type PolicyKind } from "./document";

const USER = "arn:aws:iam::123456789012:user/alice";
const REPO = "arn:aws:ecr:us-east-1:123456789012:repository/team-a/web";

/** An identity statement that is valid on its own; tests override or delete single elements. */
const IDENTITY_STATEMENT = { Effect: "Allow", Action: "ecr:BatchGetImage", Resource: REPO };
const RESOURCE_STATEMENT = { Effect: "Allow", Principal: "*", Action: "ecr:BatchGetImage" };

function policy(statement: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statement, ...extra });
}

function without(statement: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...statement };
  delete copy[key];
  return copy;
}

function parseError(text: string, kind: PolicyKind): string {
  try {
    parsePolicyDocument(text, kind);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error("expected a PolicyError");
}

describe("parsePolicyDocument: normalization", () => {
  it.each<[string, string, PolicyKind, PolicyDocument]>([
    [
      "single statement object, string Action and Resource",
      policy(IDENTITY_STATEMENT),
      "identity",
      {
        version: "2012-10-17",
        statements: [{ effect: "Allow", action: ["ecr:BatchGetImage"], resource: [REPO], conditions: [] }],
      },
    ],
    [
      "absent Version defaults to 2008-10-17",
      JSON.stringify({ Statement: [{ Sid: "Pull1", ...IDENTITY_STATEMENT }] }),
      "identity",
      {
        version: "2008-10-17",
        statements: [
          { sid: "Pull1", effect: "Allow", action: ["ecr:BatchGetImage"], resource: [REPO], conditions: [] },
        ],
      },
    ],
    [
      "Principal * and NotAction; Resource optional in a repository policy",
      policy([{ Effect: "Deny", Principal: "*", NotAction: ["ecr:Get*", "ecr:BatchGetImage"] }], { Id: "p1" }),
      "resource",
      {
        version: "2012-10-17",
        statements: [
          {
            effect: "Deny",
            principal: { everyone: true },
            notAction: ["ecr:Get*", "ecr:BatchGetImage"],
            conditions: [],
          },
        ],
      },
    ],
    [
      "Principal AWS string and array, with * collapsing to any",
      policy([
        { ...RESOURCE_STATEMENT, Principal: { AWS: "123456789012" } },
        {
          ...without(RESOURCE_STATEMENT, "Principal"),
          NotPrincipal: { AWS: [USER, "arn:aws:iam::123456789012:root"] },
        },
        { ...RESOURCE_STATEMENT, Principal: { AWS: ["123456789012", "*"] }, NotResource: REPO },
      ]),
      "resource",
      {
        version: "2012-10-17",
        statements: [
          {
            effect: "Allow",
            principal: { everyone: false, aws: ["123456789012"], services: [] },
            action: ["ecr:BatchGetImage"],
            conditions: [],
          },
          {
            effect: "Allow",
            notPrincipal: { everyone: false, aws: [USER, "arn:aws:iam::123456789012:root"], services: [] },
            action: ["ecr:BatchGetImage"],
            conditions: [],
          },
          {
            effect: "Allow",
            principal: { everyone: true },
            action: ["ecr:BatchGetImage"],
            notResource: [REPO],
            conditions: [],
          },
        ],
      },
    ],
    [
      "Service principals (the policy AWS tells Lambda and CodeBuild users to add), alone and beside AWS",
      policy([
        { Sid: "LambdaECRImageRetrievalPolicy", ...RESOURCE_STATEMENT, Principal: { Service: "lambda.amazonaws.com" } },
        {
          ...RESOURCE_STATEMENT,
          Principal: { AWS: USER, Service: ["codebuild.amazonaws.com", "pullthroughcache.ecr.amazonaws.com"] },
        },
        { ...without(RESOURCE_STATEMENT, "Principal"), NotPrincipal: { Service: "ecs-tasks.amazonaws.com.cn" } },
      ]),
      "resource",
      {
        version: "2012-10-17",
        statements: [
          {
            sid: "LambdaECRImageRetrievalPolicy",
            effect: "Allow",
            principal: { everyone: false, aws: [], services: ["lambda.amazonaws.com"] },
            action: ["ecr:BatchGetImage"],
            conditions: [],
          },
          {
            effect: "Allow",
            principal: {
              everyone: false,
              aws: [USER],
              services: ["codebuild.amazonaws.com", "pullthroughcache.ecr.amazonaws.com"],
            },
            action: ["ecr:BatchGetImage"],
            conditions: [],
          },
          {
            effect: "Allow",
            notPrincipal: { everyone: false, aws: [], services: ["ecs-tasks.amazonaws.com.cn"] },
            action: ["ecr:BatchGetImage"],
            conditions: [],
          },
        ],
      },
    ],
    [
      "conditions: qualifiers, IfExists, lowercased keys, scalar values become strings",
      policy({
        ...IDENTITY_STATEMENT,
        Condition: {
          "ForAnyValue:StringLikeIfExists": { "aws:TagKeys": ["team*", "env"] },
          NumericLessThan: { "ecr:ImageCount": 10 },
          Bool: { "aws:SecureTransport": true },
          Null: { "ecr:ResourceTag/Team": "FALSE" },
        },
      }),
      "identity",
      {
        version: "2012-10-17",
        statements: [
          {
            effect: "Allow",
            action: ["ecr:BatchGetImage"],
            resource: [REPO],
            conditions: [
              {
                operator: "StringLike",
                qualifier: "ForAnyValue",
                ifExists: true,
                key: "aws:tagkeys",
                values: ["team*", "env"],
              },
              { operator: "NumericLessThan", qualifier: null, ifExists: false, key: "ecr:imagecount", values: ["10"] },
              { operator: "Bool", qualifier: null, ifExists: false, key: "aws:securetransport", values: ["true"] },
              { operator: "Null", qualifier: null, ifExists: false, key: "ecr:resourcetag/team", values: ["false"] },
            ],
          },
        ],
      },
    ],
  ])("%s", (_name, text, kind, expected) => {
    expect(parsePolicyDocument(text, kind)).toEqual(expected);
  });

  it.each<[string, string]>([
    ["StringNotEqualsIgnoreCase", "StringNotEqualsIgnoreCase"],
    ["ArnNotLikeIfExists", "ArnNotLikeIfExists"],
    ["ForAllValues:StringEquals", "ForAllValues:StringEquals"],
    ["DateGreaterThanEquals", "DateGreaterThanEquals"],
    ["NumericNotEquals", "NumericNotEquals"],
  ])("accepts operator %s", (_name, operator) => {
    const value = operator.startsWith("Date") ? "2024-01-01T00:00:00Z" : operator.startsWith("Numeric") ? "1" : "x";
    const text = policy({ ...IDENTITY_STATEMENT, Condition: { [operator]: { "aws:Key": value } } });
    expect(parsePolicyDocument(text, "identity").statements[0]?.conditions).toHaveLength(1);
  });

  it.each<[string, number | null]>([
    ["2024-03-01T12:00:00Z", Date.UTC(2024, 2, 1, 12)],
    ["2024-03-01T12:00:00.250Z", Date.UTC(2024, 2, 1, 12, 0, 0, 250)],
    ["2024-03-01T14:00:00+02:00", Date.UTC(2024, 2, 1, 12)],
    ["2024-03-01T07:00:00-0500", Date.UTC(2024, 2, 1, 12)],
    ["2024-03-01", Date.UTC(2024, 2, 1)],
    ["1709294400", Date.UTC(2024, 2, 1, 12)],
    ["2024-02-30", null],
    ["2024-13-01", null],
    ["2024-03-01T12:00:00+24:00", null],
    ["2024-02-29", Date.UTC(2024, 1, 29)],
    ["yesterday", null],
  ])("parseInstant(%s)", (text, expected) => {
    expect(parseInstant(text)).toBe(expected);
  });
});

describe("parsePolicyDocument: malformed documents", () => {
  const statementWith = (patch: Record<string, unknown>): string =>
    policy([IDENTITY_STATEMENT, { ...IDENTITY_STATEMENT, ...patch }]);
  const withCondition = (condition: unknown): string => policy({ ...IDENTITY_STATEMENT, Condition: condition });

  it.each<[string, string, PolicyKind, string]>([
    ["not an object", "[]", "identity", "Policy document must be a JSON object"],
    [
      "unknown top-level key",
      policy(IDENTITY_STATEMENT, { Statements: [] }),
      "identity",
      'Policy document has unknown key "Statements"',
    ],
    [
      "bad Version",
      policy(IDENTITY_STATEMENT, { Version: "2020-01-01" }),
      "identity",
      'Version must be "2012-10-17" or "2008-10-17"',
    ],
    ["non-string Id", policy(IDENTITY_STATEMENT, { Id: 7 }), "identity", "Id must be a string"],
    ["missing Statement", JSON.stringify({ Version: "2012-10-17" }), "identity", "Statement is required"],
    ["empty Statement", policy([]), "identity", "Statement must not be empty"],
    ["Statement is a string", policy("Allow"), "identity", "Statement must be an object or an array of objects"],
    ["Statement entry not an object", policy([IDENTITY_STATEMENT, "x"]), "identity", "Statement[1] must be an object"],
    [
      "unknown statement key",
      statementWith({ Actions: "ecr:*" }),
      "identity",
      'Statement[1] has unknown key "Actions"',
    ],
    [
      "missing Effect (object form)",
      policy(without(IDENTITY_STATEMENT, "Effect")),
      "identity",
      "Statement.Effect is required",
    ],
    ["bad Effect", statementWith({ Effect: "allow" }), "identity", 'Statement[1].Effect must be "Allow" or "Deny"'],
    [
      "non-alphanumeric Sid",
      statementWith({ Sid: "allow pull" }),
      "identity",
      "Statement[1].Sid must be a non-empty string of letters and digits",
    ],
    [
      "duplicate Sid",
      policy([{ ...IDENTITY_STATEMENT, Sid: "Pull" }, IDENTITY_STATEMENT, { ...IDENTITY_STATEMENT, Sid: "Pull" }]),
      "identity",
      'Statement[2].Sid "Pull" duplicates the Sid of Statement[0]',
    ],
    [
      "both Action and NotAction",
      statementWith({ NotAction: "ecr:PutImage" }),
      "identity",
      "Statement[1] must not have both Action and NotAction",
    ],
    [
      "neither Action nor NotAction",
      policy([without(IDENTITY_STATEMENT, "Action")]),
      "identity",
      "Statement[0] must have either Action or NotAction",
    ],
    [
      "empty Action array",
      statementWith({ Action: [] }),
      "identity",
      "Statement[1].Action must be a string or a non-empty array of strings",
    ],
    [
      "non-string in Action",
      statementWith({ Action: ["ecr:PutImage", 3] }),
      "identity",
      "Statement[1].Action must be a string or a non-empty array of strings",
    ],
    [
      "action without a service",
      statementWith({ Action: ["ecr:PutImage", "PutImage"] }),
      "identity",
      'Statement[1].Action[1] "PutImage" is not a valid action; expected "service:Action" or "*"',
    ],
    [
      "identity without Resource",
      policy(without(IDENTITY_STATEMENT, "Resource")),
      "identity",
      "Statement must have either Resource or NotResource",
    ],
    [
      "both Resource and NotResource",
      statementWith({ NotResource: REPO }),
      "identity",
      "Statement[1] must not have both Resource and NotResource",
    ],
    [
      "resource not an ARN",
      statementWith({ Resource: "repository/team-a" }),
      "identity",
      'Statement[1].Resource "repository/team-a" is not a valid resource; expected "*" or an ARN',
    ],
    [
      "Principal in an identity policy",
      statementWith({ Principal: "*" }),
      "identity",
      "Statement[1].Principal is not allowed in an identity policy",
    ],
    [
      "NotPrincipal in an identity policy",
      statementWith({ NotPrincipal: "*" }),
      "identity",
      "Statement[1].NotPrincipal is not allowed in an identity policy",
    ],
    [
      "no Principal in a resource policy",
      policy([without(RESOURCE_STATEMENT, "Principal")]),
      "resource",
      "Statement[0] must have either Principal or NotPrincipal",
    ],
    [
      "both Principal and NotPrincipal",
      policy([{ ...RESOURCE_STATEMENT, NotPrincipal: { AWS: USER } }]),
      "resource",
      "Statement[0] must not have both Principal and NotPrincipal",
    ],
    [
      "a Service principal that is not an AWS service name",
      policy([{ ...RESOURCE_STATEMENT, Principal: { Service: ["lambda.amazonaws.com", "*"] } }]),
      "resource",
      'Statement[0].Principal.Service[1] "*" must be an AWS service principal such as "lambda.amazonaws.com"',
    ],
    [
      "a Service principal that is not a string",
      policy([{ ...RESOURCE_STATEMENT, Principal: { Service: 7 } }]),
      "resource",
      "Statement[0].Principal.Service must be a string or a non-empty array of strings",
    ],
    [
      "Federated principal beside AWS",
      policy([{ ...RESOURCE_STATEMENT, Principal: { AWS: USER, Federated: "x" } }]),
      "resource",
      'Statement[0].Principal has unsupported principal type "Federated" (only "AWS" and "Service" are supported)',
    ],
    [
      "Principal as a bare account id",
      policy([{ ...RESOURCE_STATEMENT, Principal: "123456789012" }]),
      "resource",
      'Statement[0].Principal must be "*" or an object with "AWS" or "Service" keys',
    ],
    [
      "malformed AWS principal",
      policy([{ ...RESOURCE_STATEMENT, Principal: { AWS: [USER, "alice"] } }]),
      "resource",
      'Statement[0].Principal.AWS[1] "alice" must be "*", a 12-digit account id or an IAM user, role or root ARN',
    ],
    ["Condition not an object", withCondition(["x"]), "identity", "Statement.Condition must be an object"],
    [
      "unknown operator",
      withCondition({ StringEqualz: { "aws:username": "a" } }),
      "identity",
      'Statement.Condition has unknown operator "StringEqualz"',
    ],
    [
      "NullIfExists",
      withCondition({ NullIfExists: { "aws:username": "true" } }),
      "identity",
      'Statement.Condition has unknown operator "NullIfExists"',
    ],
    [
      "unknown qualifier",
      withCondition({ "ForSomeValues:StringEquals": { "aws:username": "a" } }),
      "identity",
      'Statement.Condition has unknown operator "ForSomeValues:StringEquals"',
    ],
    [
      "empty operator block",
      withCondition({ StringEquals: {} }),
      "identity",
      "Statement.Condition.StringEquals must be an object mapping condition keys to values",
    ],
    [
      "condition key without prefix",
      withCondition({ StringEquals: { username: "a" } }),
      "identity",
      'Statement.Condition.StringEquals key "username" must be of the form "prefix:name"',
    ],
    [
      "empty value list",
      withCondition({ StringEquals: { "aws:username": [] } }),
      "identity",
      'Statement.Condition.StringEquals["aws:username"] must not be an empty array',
    ],
    [
      "object value",
      withCondition({ StringEquals: { "aws:username": [{ a: 1 }] } }),
      "identity",
      'Statement.Condition.StringEquals["aws:username"][0] must be a string, number or boolean',
    ],
    [
      "bad CIDR",
      withCondition({ IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "10.0.0.0/33"] } }),
      "identity",
      'Statement.Condition.IpAddress["aws:SourceIp"][1] "10.0.0.0/33" is not a valid IP address or CIDR block',
    ],
    [
      "bad IPv6 in NotIpAddress",
      withCondition({ NotIpAddress: { "aws:SourceIp": "2001:db8:::/32" } }),
      "identity",
      'Statement.Condition.NotIpAddress["aws:SourceIp"] "2001:db8:::/32" is not a valid IP address or CIDR block',
    ],
    [
      "bad number",
      withCondition({ NumericLessThan: { "ecr:Count": "ten" } }),
      "identity",
      'Statement.Condition.NumericLessThan["ecr:Count"] "ten" is not a valid number',
    ],
    [
      "bad date",
      withCondition({ DateLessThan: { "aws:CurrentTime": "2024-02-30T00:00:00Z" } }),
      "identity",
      'Statement.Condition.DateLessThan["aws:CurrentTime"] "2024-02-30T00:00:00Z" is not a valid date; expected ISO 8601 or epoch seconds',
    ],
    [
      "bad Bool",
      withCondition({ Bool: { "aws:SecureTransport": "yes" } }),
      "identity",
      'Statement.Condition.Bool["aws:SecureTransport"] "yes" must be "true" or "false"',
    ],
  ])("%s", (_name, text, kind, message) => {
    expect(parseError(text, kind)).toBe(message);
  });

  it("reports the JSON parser's reason", () => {
    let reason = "";
    try {
      JSON.parse("{");
    } catch (error) {
      reason = error instanceof Error ? error.message : "";
    }
    expect(parseError("{", "identity")).toBe(`Policy document is not valid JSON: ${reason}`);
  });

  it("rejects text over 10,240 characters", () => {
    const text = policy({ ...IDENTITY_STATEMENT, Sid: "x".repeat(10_240) });
    expect(parseError(text, "identity")).toBe(`Policy document is ${text.length} characters long; the limit is 10240`);
  });

  it("accepts text of exactly the limit", () => {
    const base = policy({ ...IDENTITY_STATEMENT, Sid: "" });
    const text = policy({ ...IDENTITY_STATEMENT, Sid: "x".repeat(10_240 - base.length) });
    expect(text).toHaveLength(10_240);
    expect(parsePolicyDocument(text, "identity").statements).toHaveLength(1);
  });
});
