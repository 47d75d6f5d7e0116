import { describe, expect, it } from "vitest";
import {
  ANY_RESOURCE,
  authorize,
  explain,
  repositoryResource,
  requestFacts,
  userResource,
  type RequestFacts,
} from "./decision";
import type { Principal } from "./caller";
import { parsePolicyDocument } from "./policy/document";

const ACCOUNT = { accountId: "123456789012", region: "us-east-1" };

function principal(statements: Record<string, unknown>[]): Principal {
  return {
    arn: `arn:aws:iam::${ACCOUNT.accountId}:user/alice`,
    username: "alice",
    userId: "u-alice",
    accountId: ACCOUNT.accountId,
    identityPolicies: [
      parsePolicyDocument(JSON.stringify({ Version: "2012-10-17", Statement: statements }), "identity"),
    ],
  };
}

const OFFICE: RequestFacts = { sourceIp: "203.0.113.9", secureTransport: true, at: new Date("2026-05-01T12:00:00Z") };
const HOME: RequestFacts = { ...OFFICE, sourceIp: "198.51.100.7" };

describe("requestFacts", () => {
  it("takes the source address from CF-Connecting-IP and secure transport from the scheme", () => {
    const facts = requestFacts(
      new Request("https://registry.test/admin/users", { headers: { "CF-Connecting-IP": "2001:db8::1" } }),
    );
    expect(facts.sourceIp).toBe("2001:db8::1");
    expect(facts.secureTransport).toBe(true);
    const plain = requestFacts(new Request("http://registry.test/v2/"));
    expect(plain.sourceIp).toBeNull();
    expect(plain.secureTransport).toBe(false);
  });
});

describe("authorize", () => {
  const officeOnly = principal([
    { Effect: "Allow", Action: "*", Resource: "*" },
    {
      Sid: "OfficeOnly",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { NotIpAddress: { "aws:SourceIp": "203.0.113.0/24" } },
    },
  ]);

  it("decides every kind of resource with the request's condition keys", () => {
    for (const resource of [
      ANY_RESOURCE,
      userResource(ACCOUNT, "bob"),
      repositoryResource(ACCOUNT, "team-a/web", undefined),
    ]) {
      expect(authorize({ principal: officeOnly, action: "iam:GetUser", resource, request: OFFICE })).toBe("Allow");
      expect(authorize({ principal: officeOnly, action: "iam:GetUser", resource, request: HOME })).toBe("ExplicitDeny");
    }
    expect(explain({ principal: officeOnly, action: "iam:ListUsers", resource: ANY_RESOURCE, request: HOME })).toMatch(
      /^denied explicitly by statement "OfficeOnly"/,
    );
  });

  it("gives policies aws:SecureTransport, aws:CurrentTime and the repository's tags", () => {
    const conditional = principal([
      {
        Effect: "Allow",
        Action: "ecr:BatchGetImage",
        Resource: "*",
        Condition: {
          Bool: { "aws:SecureTransport": "true" },
          DateLessThan: { "aws:CurrentTime": "2027-01-01T00:00:00Z" },
          StringEquals: { "ecr:ResourceTag/team": "a" },
        },
      },
    ]);
    const tagged = repositoryResource(ACCOUNT, "team-a/web", { policy: null, tags: { team: "a" } });
    const ask = (request: RequestFacts, resource = tagged) =>
      authorize({ principal: conditional, action: "ecr:BatchGetImage", resource, request });
    expect(ask(OFFICE)).toBe("Allow");
    expect(ask({ ...OFFICE, secureTransport: false })).toBe("ImplicitDeny");
    expect(ask({ ...OFFICE, at: new Date("2027-06-01T00:00:00Z") })).toBe("ImplicitDeny");
    expect(ask(OFFICE, repositoryResource(ACCOUNT, "team-a/web", { policy: null, tags: { team: "b" } }))).toBe(
      "ImplicitDeny",
    );
  });

  it("lets a repository policy allow an anonymous caller, who has no identity policies", () => {
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: "ecr:BatchGetImage" }],
    });
    const resource = repositoryResource(ACCOUNT, "public/app", { policy, tags: {} });
    expect(authorize({ principal: null, action: "ecr:BatchGetImage", resource, request: HOME })).toBe("Allow");
    expect(authorize({ principal: null, action: "ecr:PutImage", resource, request: HOME })).toBe("ImplicitDeny");
  });
});
