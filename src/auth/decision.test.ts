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

describe("the registry policy", () => {
  const importer = principal([{ Effect: "Allow", Action: "ecr:BatchGetImage", Resource: "*" }]);
  const registryPolicy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: importer.arn },
        Action: ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
        Resource: `arn:aws:ecr:us-east-1:${ACCOUNT.accountId}:repository/hub/*`,
      },
    ],
  });
  const cache = { ...repositoryResource(ACCOUNT, "hub/library/alpine", undefined), registryPolicy };

  it("grants this account's principals a pull-through import and the repository it creates", () => {
    const ask = (action: string) => authorize({ principal: importer, action, resource: cache, request: OFFICE });
    expect(ask("ecr:BatchImportUpstreamImage")).toBe("Allow");
    expect(ask("ecr:CreateRepository")).toBe("Allow");
    // Nothing else: the registry policy does not widen other actions.
    expect(ask("ecr:PutImage")).toBe("ImplicitDeny");
    // Outside the repositories it names, and without it, the identity policy alone decides.
    const elsewhere = { ...repositoryResource(ACCOUNT, "team-a/app", undefined), registryPolicy };
    expect(
      authorize({ principal: importer, action: "ecr:BatchImportUpstreamImage", resource: elsewhere, request: OFFICE }),
    ).toBe("ImplicitDeny");
    const unloaded = repositoryResource(ACCOUNT, "hub/library/alpine", undefined);
    expect(
      authorize({ principal: importer, action: "ecr:BatchImportUpstreamImage", resource: unloaded, request: OFFICE }),
    ).toBe("ImplicitDeny");
  });

  it("alone decides for another account's principal, which it grants only replication", () => {
    const peer: Principal = {
      arn: "arn:aws:iam::210987654321:root",
      username: "account:210987654321",
      userId: "peer",
      accountId: "210987654321",
      identityPolicies: [],
      crossAccount: true,
    };
    const replication = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: "210987654321" }, Action: "ecr:ReplicateImage", Resource: "*" }],
    });
    const resource = { ...repositoryResource(ACCOUNT, "prod/web", undefined), registryPolicy: replication };
    const ask = (action: string) => authorize({ principal: peer, action, resource, request: OFFICE });
    expect(
      ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"].map(ask),
    ).toEqual(["Allow", "Allow", "Allow", "Allow"]);
    expect(ask("ecr:CreateRepository")).toBe("ImplicitDeny");
    expect(ask("ecr:BatchGetImage")).toBe("ImplicitDeny");
    expect(ask("ecr:BatchDeleteImage")).toBe("ImplicitDeny");
    expect(
      authorize({ principal: peer, action: "ecr:DescribeRegistry", resource: ANY_RESOURCE, request: OFFICE }),
    ).toBe("ImplicitDeny");
    expect(explain({ principal: peer, action: "ecr:BatchGetImage", resource, request: OFFICE })).toMatch(
      /not granted to another account/,
    );
  });
});
