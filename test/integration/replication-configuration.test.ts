/**
 * PutReplicationConfiguration and DescribeRegistry through the ECR API: the configuration is
 * validated as ECR validates it (ValidationException naming the member, nothing stored), kept,
 * returned by DescribeRegistry in canonical shape, and guarded by its own ECR action.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ecrCall } from "../support/ecr";
import { ACCOUNT_ID, allowPolicy, createUser } from "../support/registry";

const OTHER = "210987654321";
const to = (registryId: string, region: string) => ({ registryId, region });
const prefix = (filter: string) => ({ filter, filterType: "PREFIX_MATCH" });
const VALID = {
  rules: [
    { destinations: [to(OTHER, "us-west-2")], repositoryFilters: [prefix("team-a/")] },
    { destinations: [to(OTHER, "eu-west-1"), to("333333333333", "us-east-1")] },
    // A regional replica of this registry (REPLICA_REGIONS in vitest.config.ts).
    { destinations: [to(ACCOUNT_ID, "eu-west-1")], repositoryFilters: [prefix("prod")] },
  ],
};

async function describeConfiguration(): Promise<unknown> {
  const described = await ecrCall("DescribeRegistry", {});
  expect(described.status).toBe(200);
  return described.body.replicationConfiguration;
}

afterEach(async () => {
  expect((await ecrCall("PutReplicationConfiguration", { replicationConfiguration: { rules: [] } })).status).toBe(200);
});

describe("PutReplicationConfiguration", () => {
  it("starts with no rules, stores a configuration, returns it in DescribeRegistry, and clears it", async () => {
    expect(await describeConfiguration()).toEqual({ rules: [] });
    const put = await ecrCall("PutReplicationConfiguration", { replicationConfiguration: VALID });
    expect(put).toMatchObject({ status: 200, body: { replicationConfiguration: VALID } });
    expect(await describeConfiguration()).toEqual(VALID);
    const described = await ecrCall("DescribeRegistry", {});
    expect(described.body.registryId).toBe(ACCOUNT_ID);
    await ecrCall("PutReplicationConfiguration", { replicationConfiguration: { rules: [] } });
    expect(await describeConfiguration()).toEqual({ rules: [] });
  });

  it("answers ValidationException naming what is wrong, and keeps the configuration it had", async () => {
    await ecrCall("PutReplicationConfiguration", { replicationConfiguration: VALID });
    const rule = { destinations: [to(OTHER, "us-west-2")] };
    const cases: [unknown, RegExp][] = [
      [undefined, /replicationConfiguration is required/],
      [{}, /rules is required/],
      [{ rules: Array.from({ length: 11 }, () => rule) }, /at most|from 0 to 10/],
      [{ rules: [{ ...rule, repositoryFilters: Array.from({ length: 101 }, (_, i) => prefix(`r${i}`)) }] }, /100/],
      [
        {
          rules: [0, 1, 2].map((k) => ({
            destinations: Array.from({ length: 9 }, (_, i) => to(OTHER, `xx-region-${k * 9 + i}`)),
          })),
        },
        /27 unique destinations; at most 25/,
      ],
      [{ rules: [{ destinations: [to(ACCOUNT_ID, "us-east-1")] }] }, /own region/],
      [
        { rules: [{ destinations: [to(ACCOUNT_ID, "ap-south-1")] }] },
        /ap-south-1 is not a replica region of this registry \(eu-west-1\)/,
      ],
      [{ rules: [{ ...rule, repositoryFilters: [{ filter: "team", filterType: "WILDCARD" }] }] }, /filterType/],
      [{ rules: [{ destinations: [to("1234", "us-west-2")] }] }, /registryId/],
    ];
    for (const [replicationConfiguration, message] of cases) {
      const refused = await ecrCall(
        "PutReplicationConfiguration",
        replicationConfiguration === undefined ? {} : { replicationConfiguration },
      );
      expect(refused.status, JSON.stringify(replicationConfiguration)).toBe(400);
      expect(refused.type).toBe("ValidationException");
      expect(String(refused.body.message)).toMatch(message);
    }
    expect(await describeConfiguration()).toEqual(VALID);
  });

  it("needs ecr:PutReplicationConfiguration; DescribeRegistry needs ecr:DescribeRegistry only", async () => {
    const reader = await createUser("replication-reader", allowPolicy(["ecr:DescribeRegistry"]));
    const credentials = { accessKeyId: reader.accessKeyId, secretAccessKey: reader.secretAccessKey };
    const refused = await ecrCall("PutReplicationConfiguration", { replicationConfiguration: VALID }, credentials);
    expect(refused.status).toBe(400);
    expect(refused.type).toBe("AccessDeniedException");
    const described = await ecrCall("DescribeRegistry", {}, credentials);
    expect(described).toMatchObject({ status: 200, body: { replicationConfiguration: { rules: [] } } });
  });
});
