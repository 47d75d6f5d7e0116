/**
 * One identity policy, three surfaces: "everything, but only from the office network" written
 * as IAM recommends (an Allow plus a Deny with NotIpAddress on aws:SourceIp) decides `/v2`,
 * the ECR API and `/admin` alike, because every surface derives the condition keys from the
 * request in the same place (src/auth/decision.ts). The source address is CF-Connecting-IP,
 * as Cloudflare's edge sends it.
 */
import { describe, expect, it } from "vitest";
import { ecrCall } from "../support/ecr";
import { call, createUser, expectError, type TestUser } from "../support/registry";

const OFFICE_ONLY = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "Everything", Effect: "Allow", Action: "*", Resource: "*" },
    {
      Sid: "OfficeOnly",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { NotIpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"] } },
    },
  ],
};

const FROM_OFFICE = { "CF-Connecting-IP": "203.0.113.9" };
const FROM_OFFICE_V6 = { "CF-Connecting-IP": "2001:db8::7" };
const FROM_HOME = { "CF-Connecting-IP": "198.51.100.7" };

function as(user: TestUser, edge: Record<string, string>): { headers: Record<string, string> } {
  return { headers: { ...edge, Authorization: user.authorization } };
}

describe("Deny + NotIpAddress aws:SourceIp", () => {
  it("on /v2: a push starts from the office and is refused from elsewhere", async () => {
    const carol = await createUser("office-v2", OFFICE_ONLY);
    const allowed = await call("POST", "/v2/office/app/blobs/uploads/", as(carol, FROM_OFFICE));
    expect(allowed.status, await allowed.text()).toBe(202);
    const body = await expectError(
      await call("POST", "/v2/office/app/blobs/uploads/", as(carol, FROM_HOME)),
      403,
      "DENIED",
    );
    expect(body.errors[0]?.message).toMatch(/denied explicitly by statement "OfficeOnly" of an identity policy/);
  });

  it("on the ECR API: CreateRepository and DescribeRegistry answer from the office and are refused from elsewhere", async () => {
    const carol = await createUser("office-ecr", OFFICE_ONLY);
    const credentials = { accessKeyId: carol.accessKeyId, secretAccessKey: carol.secretAccessKey };
    for (const [action, input] of [
      ["CreateRepository", { repositoryName: "office/ecr" }],
      ["DescribeRegistry", {}],
    ] as const) {
      const allowed = await ecrCall(action, input, credentials, FROM_OFFICE);
      expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
      const refused = await ecrCall(action, input, credentials, FROM_HOME);
      expect(refused.type, JSON.stringify(refused.body)).toBe("AccessDeniedException");
      expect(refused.body.message).toMatch(/with an explicit deny$/);
    }
  });

  it("on /admin: user and registry calls answer from the office and are refused from elsewhere", async () => {
    const carol = await createUser("office-admin", OFFICE_ONLY);
    for (const [method, path] of [
      ["GET", "/admin/users"],
      ["GET", `/admin/users/${carol.name}`],
      ["GET", "/admin/jobs"],
      ["GET", "/admin/authorization-token"],
    ] as const) {
      const allowed = await call(method, path, as(carol, FROM_OFFICE));
      expect(allowed.status, `${path}: ${await allowed.text()}`).toBe(200);
      const allowedV6 = await call(method, path, as(carol, FROM_OFFICE_V6));
      expect(allowedV6.status, `${path}: ${await allowedV6.text()}`).toBe(200);
      await expectError(await call(method, path, as(carol, FROM_HOME)), 403, "DENIED");
    }
  });

  it("on /admin: a request with no source address is refused (the Deny's condition holds for an absent key)", async () => {
    const carol = await createUser("office-nowhere", OFFICE_ONLY);
    await expectError(
      await call("GET", "/admin/users", { headers: { Authorization: carol.authorization } }),
      403,
      "DENIED",
    );
  });

  it("does not touch the bootstrap admin, whose policy has no condition", async () => {
    const response = await call("GET", "/admin/users", { headers: FROM_HOME });
    expect(response.status).toBe(200);
  });
});
