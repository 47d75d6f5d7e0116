import { describe, expect, it } from "vitest";
import { parsePolicyDocument, type PolicyDocument } from "./document";
import { evaluate, explainDenial, type RequestContext } from "./evaluate";

const ACCOUNT = "123456789012";
const ALICE = { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT, username: "alice" };
const WEB = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team-a/web`;

function policy(kind: "identity" | "resource", statements: Record<string, unknown>[]): PolicyDocument {
  return parsePolicyDocument(JSON.stringify({ Version: "2012-10-17", Statement: statements }), kind);
}

function request(action: string, keys: RequestContext["keys"] = {}): RequestContext {
  return { caller: ALICE, action, resource: WEB, keys };
}

/** The README's worked example: push and pull from the office network, no deletes. */
const TEAM_A = policy("identity", [
  {
    Sid: "TeamNamespace",
    Effect: "Allow",
    Action: ["ecr:BatchGetImage", "ecr:PutImage"],
    Resource: "arn:aws:ecr:*:*:repository/team-a/*",
    Condition: { IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"] } },
  },
  { Sid: "NoDeletes", Effect: "Deny", Action: "ecr:BatchDeleteImage", Resource: "*" },
]);

describe("explainDenial", () => {
  it("names the Allow statement whose condition did not hold, the condition key, and the request's own value", () => {
    const denied = request("ecr:PutImage", { "aws:SourceIp": "127.0.0.1" });
    expect(evaluate(denied, { identity: [TEAM_A], resource: [] })).toBe("ImplicitDeny");
    expect(explainDenial(denied, { identity: [TEAM_A], resource: [] })).toBe(
      `statement "TeamNamespace" of an identity policy would allow it, but its condition IpAddress on aws:SourceIp does not hold (the request's aws:SourceIp is 127.0.0.1)`,
    );
  });

  it("says when the key is absent from the request", () => {
    expect(explainDenial(request("ecr:PutImage"), { identity: [TEAM_A], resource: [] })).toBe(
      `statement "TeamNamespace" of an identity policy would allow it, but its condition IpAddress on aws:sourceip does not hold (the request's aws:sourceip is absent)`,
    );
  });

  it("never shows the values the policy compares against", () => {
    const text = explainDenial(request("ecr:PutImage", { "aws:SourceIp": "127.0.0.1" }), {
      identity: [TEAM_A],
      resource: [],
    });
    expect(text).not.toContain("203.0.113");
    expect(text).not.toContain("2001:db8");
  });

  it("names the explicit Deny statement, and the conditions that made it apply", () => {
    expect(explainDenial(request("ecr:BatchDeleteImage"), { identity: [TEAM_A], resource: [] })).toBe(
      `denied explicitly by statement "NoDeletes" of an identity policy`,
    );
    const office = policy("resource", [
      { Effect: "Allow", Principal: "*", Action: "ecr:*" },
      {
        Effect: "Deny",
        Principal: "*",
        Action: "ecr:PutImage",
        Condition: { NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" }, Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
    const denied = request("ecr:PutImage", { "aws:SourceIp": "192.0.2.1", "aws:SecureTransport": "false" });
    expect(evaluate(denied, { identity: [], resource: [office] })).toBe("ExplicitDeny");
    expect(explainDenial(denied, { identity: [], resource: [office] })).toBe(
      "denied explicitly by statement 2 of the repository policy (its conditions hold: NotIpAddress on aws:SourceIp, Bool on aws:SecureTransport)",
    );
  });

  it("names qualified and IfExists operators as written", () => {
    const tagged = policy("identity", [
      {
        Sid: "Tagged",
        Effect: "Allow",
        Action: "ecr:PutImage",
        Resource: "*",
        Condition: {
          "ForAnyValue:StringEqualsIfExists": { "aws:PrincipalTag/team": "a" },
          StringEquals: { "ecr:ResourceTag/team": "a" },
        },
      },
    ]);
    expect(
      explainDenial(request("ecr:PutImage", { "ecr:ResourceTag/team": "b" }), { identity: [tagged], resource: [] }),
    ).toBe(
      `statement "Tagged" of an identity policy would allow it, but its condition StringEquals on ecr:ResourceTag/team does not hold (the request's ecr:ResourceTag/team is b)`,
    );
  });

  it("says that nothing allows it when no statement matches the action and resource", () => {
    expect(explainDenial(request("ecr:ListImages"), { identity: [TEAM_A], resource: [] })).toBe(
      "no statement of the caller's identity policies or the repository policy allows it",
    );
  });
});
