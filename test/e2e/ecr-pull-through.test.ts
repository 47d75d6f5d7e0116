/**
 * Pull-through cache rules through @aws-sdk/client-ecr: create (with credentials kept as a
 * registry secret, never returned), describe with pagination, update, delete, and the
 * exceptions of each.
 */
import {
  CreatePullThroughCacheRuleCommand,
  DeletePullThroughCacheRuleCommand,
  DescribePullThroughCacheRulesCommand,
  UpdatePullThroughCacheRuleCommand,
} from "@aws-sdk/client-ecr";
import { describe, expect, it } from "vitest";
import { registryFetch } from "./support/context";
import { ecrClient, expectEcrError } from "./support/ecr";

const ecr = ecrClient();
const unique = () => Math.random().toString(36).slice(2, 8);

async function putSecret(name: string, value: object): Promise<{ arn: string; status: number; body: string }> {
  const response = await registryFetch("PUT", `/admin/secrets/ecr-pullthroughcache/${name}`, {
    body: JSON.stringify(value),
    headers: { "Content-Type": "application/json" },
  });
  const body = await response.text();
  return {
    arn: response.status === 200 ? (JSON.parse(body) as { arn: string }).arn : "",
    status: response.status,
    body,
  };
}

describe("pull-through cache rules", () => {
  it("creates a rule with a stored credential, never returning the secret, then updates and deletes it", async () => {
    const prefix = `hub-${unique()}`;
    const secret = await putSecret(`hub-${prefix}`, { username: "someone", accessToken: "dckr_pat_not_returned" });
    expect(secret.status).toBe(200);
    expect(secret.body).not.toContain("dckr_pat_not_returned");
    const created = await ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: prefix,
        upstreamRegistryUrl: "registry-1.docker.io",
        upstreamRegistry: "docker-hub",
        credentialArn: secret.arn,
      }),
    );
    expect(created).toMatchObject({
      ecrRepositoryPrefix: prefix,
      upstreamRegistryUrl: "registry-1.docker.io",
      upstreamRegistry: "docker-hub",
      credentialArn: secret.arn,
    });
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(JSON.stringify(created)).not.toContain("dckr_pat_not_returned");

    await expectEcrError(
      ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix, upstreamRegistryUrl: "quay.io" })),
      "PullThroughCacheRuleAlreadyExistsException",
    );
    const described = await ecr.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: [prefix] }));
    expect(described.pullThroughCacheRules?.[0]).toMatchObject({
      ecrRepositoryPrefix: prefix,
      credentialArn: secret.arn,
    });

    const other = await putSecret(`hub-${prefix}-2`, { username: "other", accessToken: "t2" });
    const updated = await ecr.send(
      new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix, credentialArn: other.arn }),
    );
    expect(updated).toMatchObject({ ecrRepositoryPrefix: prefix, credentialArn: other.arn });
    expect(updated.updatedAt).toBeInstanceOf(Date);

    const deleted = await ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix }));
    expect(deleted.ecrRepositoryPrefix).toBe(prefix);
    await expectEcrError(
      ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix })),
      "PullThroughCacheRuleNotFoundException",
    );
    await expectEcrError(
      ecr.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: [prefix] })),
      "PullThroughCacheRuleNotFoundException",
    );
    await expectEcrError(
      ecr.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix })),
      "PullThroughCacheRuleNotFoundException",
    );
  });

  it("pages through the rules", async () => {
    const base = `page-${unique()}`;
    const prefixes = Array.from({ length: 5 }, (_, i) => `${base}-${i}`);
    for (const prefix of prefixes)
      await ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: prefix,
          upstreamRegistryUrl: "public.ecr.aws",
          upstreamRegistry: "ecr-public",
        }),
      );
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecr.send(new DescribePullThroughCacheRulesCommand({ maxResults: 2, nextToken }));
      expect(page.pullThroughCacheRules!.length).toBeLessThanOrEqual(2);
      seen.push(...page.pullThroughCacheRules!.map((rule) => rule.ecrRepositoryPrefix!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen.filter((prefix) => prefix.startsWith(base))).toEqual(prefixes);
    for (const prefix of prefixes)
      await ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix }));
  });

  it("answers ECR's exceptions to bad rules", async () => {
    const missingSecret = `arn:aws:secretsmanager:us-east-1:000000000000:secret:ecr-pullthroughcache/none-${unique()}`;
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: `x-${unique()}`,
          upstreamRegistryUrl: "ghcr.io",
          credentialArn: missingSecret,
        }),
      ),
      "SecretNotFoundException",
    );
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: `x-${unique()}`,
          upstreamRegistryUrl: "ghcr.io",
          upstreamRegistry: "floppy-disk" as "quay",
        }),
      ),
      "UnsupportedUpstreamRegistryException",
    );
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: "Bad_Prefix!", upstreamRegistryUrl: "quay.io" }),
      ),
      "InvalidParameterException",
    );
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: `x-${unique()}`,
          upstreamRegistryUrl: "https://quay.io/with/path",
        }),
      ),
      "InvalidParameterException",
    );
    const badSecret = await putSecret(`bad-${unique()}`, { username: "only-a-user" });
    expect(badSecret.status).toBe(400);
    expect((await putSecret("../escape", { username: "u", accessToken: "t" })).status).toBe(400);
  });
});
