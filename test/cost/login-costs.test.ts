/**
 * What a refused login costs (issue 12, item 13), counted by the bench counters: every access
 * key id, unknown, known with a wrong secret, or the bootstrap admin's with a wrong secret, costs
 * the same work (one D1 lookup and one secret hash for Basic; one lookup and one signature for
 * SigV4), so the time of a refusal does not tell which key ids exist; and a throttled attempt
 * checks no secret at all. Counts, not timings (bench/auth-timing.mjs measures the times).
 * Each refusal is also one audit record (issue 17): one INSERT after the response, waited for
 * before the counters are read; a throttled attempt is aggregated (no write of its own).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { OperationCounts } from "../../src/bench/counters";
import { waitUntilStored } from "../support/audit";
import { ecrCall } from "../support/ecr";
import { allowPolicy, basicAuthorization, call, createUser, requestToken } from "../support/registry";

/** Waits until `count` refused requests are on the audit trail (written after their responses). */
async function refusalsRecorded(count: number): Promise<void> {
  expect(await waitUntilStored("error_code IS NOT NULL AND request_id IS NOT NULL", count)).toBe(count);
}

/** Waits until the records of earlier calls (createUser's) stop arriving, so none lands in a count. */
async function recordsSettled(): Promise<void> {
  let last = -1;
  for (let stable = 0; stable < 4;) {
    const row = await env.DB.prepare("SELECT count(*) AS n FROM audit_events").first<{ n: number }>();
    stable = row?.n === last ? stable + 1 : 0;
    last = row?.n ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function drain(): Promise<OperationCounts> {
  const response = await call("GET", "/_bench/counters");
  expect(response.status).toBe(200);
  return await response.json<OperationCounts>();
}

const SCOPE = ["repository:team-a/app:pull"];

describe("refused Basic logins", () => {
  it("cost one D1 lookup and one secret hash whichever key id is named", async () => {
    const user = await createUser("costed", allowPolicy(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]));
    // The admin's own hash is derived once per isolate, at its first login (createUser did it).
    await recordsSettled();
    await drain();
    const attempts: Record<string, string> = {
      "unknown key": basicAuthorization("AKIANOSUCHKEY0000000", user.secretAccessKey),
      "known key, wrong secret": basicAuthorization(user.accessKeyId, `${user.secretAccessKey}x`),
      "admin key, wrong secret": basicAuthorization(
        env.REGISTRY_ADMIN_ACCESS_KEY_ID,
        `${env.REGISTRY_ADMIN_SECRET_ACCESS_KEY}x`,
      ),
    };
    let refused = 0;
    for (const [what, authorization] of Object.entries(attempts)) {
      const response = await requestToken(SCOPE, authorization);
      expect(response.status, what).toBe(401);
      await response.body?.cancel();
      await refusalsRecorded(++refused);
      expect(await drain(), what).toMatchObject({
        d1Queries: 2,
        secretHashes: 1,
        d1WriteStatements: 1,
        d1AuditWriteStatements: 1,
      });
    }
  });

  it("check no secret once the key is throttled, even the right one", async () => {
    const user = await createUser("throttled", allowPolicy(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]));
    for (let i = 0; i < 10; i++)
      await (await requestToken(SCOPE, basicAuthorization(user.accessKeyId, `wrong-${i}`))).body?.cancel();
    await refusalsRecorded(10);
    await drain();
    for (const secret of ["wrong-again", user.secretAccessKey]) {
      const response = await requestToken(SCOPE, basicAuthorization(user.accessKeyId, secret));
      expect(response.status).toBe(429);
      await response.body?.cancel();
      expect(await drain()).toMatchObject({ secretHashes: 0, d1WriteStatements: 0 });
    }
  });
});

describe("refused SigV4 requests", () => {
  it("cost one D1 lookup and one signature whichever key id is named", async () => {
    const user = await createUser("signer", allowPolicy(["ecr:DescribeRegistry"]));
    await recordsSettled();
    await drain();
    const attempts: Record<string, { accessKeyId: string; secretAccessKey: string }> = {
      "unknown key": { accessKeyId: "AKIANOSUCHKEY0000000", secretAccessKey: user.secretAccessKey },
      "known key, wrong secret": {
        accessKeyId: user.accessKeyId,
        secretAccessKey: `${user.secretAccessKey.slice(0, -1)}!`,
      },
      "admin key, wrong secret": {
        accessKeyId: env.REGISTRY_ADMIN_ACCESS_KEY_ID,
        secretAccessKey: `${env.REGISTRY_ADMIN_SECRET_ACCESS_KEY}x`,
      },
    };
    let refused = 0;
    for (const [what, credentials] of Object.entries(attempts)) {
      const result = await ecrCall("DescribeRegistry", {}, credentials);
      expect(result.status, what).toBe(403);
      await refusalsRecorded(++refused);
      expect(await drain(), what).toMatchObject({
        d1Queries: 2,
        signatureChecks: 1,
        secretHashes: 0,
        d1WriteStatements: 1,
        d1AuditWriteStatements: 1,
      });
    }
  });

  it("check no signature once the key is throttled", async () => {
    const user = await createUser("sig-throttled", allowPolicy(["ecr:DescribeRegistry"]));
    const wrong = { accessKeyId: user.accessKeyId, secretAccessKey: `${user.secretAccessKey.slice(0, -1)}!` };
    for (let i = 0; i < 10; i++) expect((await ecrCall("DescribeRegistry", {}, wrong)).status).toBe(403);
    await refusalsRecorded(10);
    await drain();
    const result = await ecrCall(
      "DescribeRegistry",
      {},
      { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
    );
    expect(result.type).toBe("ThrottlingException");
    expect(await drain()).toMatchObject({ signatureChecks: 0, secretHashes: 0, d1WriteStatements: 0 });
  });
});
