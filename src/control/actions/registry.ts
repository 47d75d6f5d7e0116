/**
 * Registry-wide actions: GetAuthorizationToken, DescribeRegistry, the registry policy and the
 * replication configuration.
 */
import { REGISTRY_POLICY_ACTIONS } from "../../auth/decision";
import { parsePolicyDocument, PolicyError, MAX_POLICY_LENGTH, type PolicyDocument } from "../../auth/policy/document";
import { issueLoginToken } from "../../auth/tokens";
import { EcrError, RegistryError } from "../../errors";
import {
  deleteRegistrySetting,
  findRegistrySetting,
  putRegistrySetting,
  REGISTRY_POLICY,
} from "../../storage/registry-settings";
import { parseReplicationConfiguration } from "../../replication/configuration";
import { readReplicationConfiguration, writeReplicationConfiguration } from "../../replication/store";
import type { ActionHandler } from "../context";
import { epochSeconds, invalidParameter } from "../input";

export const registryActions: Record<string, ActionHandler> = {
  async GetAuthorizationToken(ctx) {
    ctx.input.optionalStringList("registryIds", 1, 10, { pattern: /^[0-9]{12}$/ });
    await ctx.authorize("ecr:GetAuthorizationToken", null);
    const login = await issueLoginToken(ctx.config, ctx.principal);
    return {
      authorizationData: [
        {
          authorizationToken: btoa(`AWS:${login.token}`),
          expiresAt: epochSeconds(login.expiresAt.getTime()),
          proxyEndpoint: new URL(ctx.c.req.url).origin,
        },
      ],
    };
  },

  async DescribeRegistry(ctx) {
    await ctx.authorize("ecr:DescribeRegistry", null);
    return { registryId: ctx.config.accountId, replicationConfiguration: await readReplicationConfiguration(ctx.db) };
  },

  async PutReplicationConfiguration(ctx) {
    const data = ctx.input.optionalObject("replicationConfiguration");
    if (data === undefined) throw validation("replicationConfiguration is required");
    const replicationConfiguration = parseReplicationConfiguration(
      data.members(),
      {
        registryId: ctx.config.accountId,
        region: ctx.config.region,
        replicaRegions: ctx.c.get("settings").replicaRegions.map((replica) => replica.region),
      },
      validation,
    );
    await ctx.authorize("ecr:PutReplicationConfiguration", null);
    await writeReplicationConfiguration(ctx.db, replicationConfiguration, Date.now());
    return { replicationConfiguration };
  },

  async PutRegistryPolicy(ctx) {
    const policyText = ctx.input.string("policyText", { min: 1, max: MAX_POLICY_LENGTH });
    await ctx.authorize("ecr:PutRegistryPolicy", null);
    let document: PolicyDocument;
    try {
      document = parsePolicyDocument(policyText, "resource");
    } catch (error) {
      if (error instanceof PolicyError) throw invalidParameter(`Invalid registry policy provided: ${error.message}`);
      throw error;
    }
    // ECR: a registry policy enforces these actions alone; any other is an error.
    for (const statement of document.statements) {
      if (statement.notAction !== undefined)
        throw validation("Invalid registry policy provided: NotAction is not supported in a registry policy");
      const other = (statement.action ?? []).find((action) => !REGISTRY_POLICY_ACTIONS.includes(action));
      if (other !== undefined)
        throw validation(
          `Invalid registry policy provided: action '${other}' is not supported; a registry policy grants ${REGISTRY_POLICY_ACTIONS.join(", ")}`,
        );
    }
    await putRegistrySetting(ctx.db, REGISTRY_POLICY, policyText, Date.now());
    return { registryId: ctx.config.accountId, policyText };
  },

  async GetRegistryPolicy(ctx) {
    await ctx.authorize("ecr:GetRegistryPolicy", null);
    const policyText = await findRegistrySetting(ctx.db, REGISTRY_POLICY);
    if (policyText === undefined) throw noRegistryPolicy(ctx.config.accountId);
    return { registryId: ctx.config.accountId, policyText };
  },

  async DeleteRegistryPolicy(ctx) {
    await ctx.authorize("ecr:DeleteRegistryPolicy", null);
    const policyText = await deleteRegistrySetting(ctx.db, REGISTRY_POLICY);
    if (policyText === undefined) throw noRegistryPolicy(ctx.config.accountId);
    return { registryId: ctx.config.accountId, policyText };
  },
};

function validation(message: string): RegistryError {
  return new RegistryError(EcrError.ValidationException, message);
}

function noRegistryPolicy(accountId: string): RegistryError {
  return new RegistryError(
    EcrError.RegistryPolicyNotFoundException,
    `Registry policy does not exist in the registry with id '${accountId}'`,
  );
}
