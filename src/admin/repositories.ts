/**
 * Admin API for repository settings (until ECR's control plane serves them): tag mutability,
 * resource tags, and the repository policy, authorized with ECR action names.
 *   PUT    /admin/repositories/<name>          {"imageTagMutability"?, "imageTagMutabilityExclusionFilters"?, "tags"?}
 *   GET    /admin/repositories/<name>
 *   PUT    /admin/repository-policies/<name>   body: the policy document
 *   GET    /admin/repository-policies/<name>
 *   DELETE /admin/repository-policies/<name>
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { parsePolicyDocument, PolicyError } from "../auth/policy/document";
import { requireName } from "../distribution/validate";
import { repositoryObject } from "../repository/stub";
import { findRepository, setRepositoryPolicy, setRepositoryTags } from "../storage/repository-records";
import { readTagMutabilitySetting, TagMutabilityError } from "../repository/tag-mutability";
import type { TagMutabilitySetting } from "../storage/repository-records";
import { requireRepositoryAdminAction } from "./authorize";
import { presentRepository } from "./present";
import { adminError } from "./users";

export const repositoryRoutes = new Hono<AppEnv>();

/** The tag mutability setting in ECR's shape (with exclusion filters), or undefined if the body sets none. */
function readMutability(body: Record<string, unknown>): TagMutabilitySetting | undefined {
  const { imageTagMutability, imageTagMutabilityExclusionFilters } = body;
  if (imageTagMutability === undefined && imageTagMutabilityExclusionFilters === undefined) return undefined;
  try {
    return readTagMutabilitySetting(imageTagMutability ?? "MUTABLE", imageTagMutabilityExclusionFilters);
  } catch (error) {
    if (error instanceof TagMutabilityError) throw adminError.invalid(error.message);
    throw error;
  }
}

function readTags(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw adminError.invalid("tags must be an object of strings");
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [key, tag] of entries) {
    if (typeof tag !== "string" || key.length === 0 || key.length > 128 || tag.length > 256) {
      throw adminError.invalid(`tag "${key}" must be a string of at most 256 characters with a key of 1-128`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

repositoryRoutes.put("/repositories/:name{.+}", async (c) => {
  const name = requireName(c.req.param("name"));
  const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
  if (body === null || typeof body !== "object") throw adminError.invalid("body must be a JSON object");
  const mutability = readMutability(body);
  const tags = body.tags === undefined ? undefined : readTags(body.tags);
  await requireRepositoryAdminAction(c, "ecr:CreateRepository", name);
  if (mutability !== undefined) await requireRepositoryAdminAction(c, "ecr:PutImageTagMutability", name);
  if (tags !== undefined) await requireRepositoryAdminAction(c, "ecr:TagResource", name);
  const repository = repositoryObject(c.env, name);
  await repository.ensureRepository(name, true);
  if (mutability !== undefined) await repository.setTagMutability(name, mutability);
  if (tags !== undefined) await setRepositoryTags(c.get("db"), name, tags);
  const row = await findRepository(c.get("db"), name);
  if (!row) throw adminError.notFound(`repository ${name} does not exist`);
  return c.json(presentRepository(row));
});

repositoryRoutes.get("/repositories/:name{.+}", async (c) => {
  const name = requireName(c.req.param("name"));
  await requireRepositoryAdminAction(c, "ecr:DescribeRepositories", name);
  const row = await findRepository(c.get("db"), name);
  if (!row) throw adminError.notFound(`repository ${name} does not exist`);
  return c.json(presentRepository(row));
});

repositoryRoutes.put("/repository-policies/:name{.+}", async (c) => {
  const name = requireName(c.req.param("name"));
  await requireRepositoryAdminAction(c, "ecr:SetRepositoryPolicy", name);
  const text = await c.req.text();
  try {
    parsePolicyDocument(text, "resource");
  } catch (error) {
    if (error instanceof PolicyError) throw adminError.invalid(`invalid policy document: ${error.message}`);
    throw error;
  }
  if (!(await setRepositoryPolicy(c.get("db"), name, text))) throw adminError.notFound(`repository ${name} does not exist`);
  return c.json({ repositoryName: name, policyText: text });
});

repositoryRoutes.get("/repository-policies/:name{.+}", async (c) => {
  const name = requireName(c.req.param("name"));
  await requireRepositoryAdminAction(c, "ecr:GetRepositoryPolicy", name);
  const row = await findRepository(c.get("db"), name);
  if (!row?.policy) throw adminError.notFound(`repository ${name} has no policy`);
  return c.json({ repositoryName: name, policyText: row.policy });
});

repositoryRoutes.delete("/repository-policies/:name{.+}", async (c) => {
  const name = requireName(c.req.param("name"));
  await requireRepositoryAdminAction(c, "ecr:DeleteRepositoryPolicy", name);
  const row = await findRepository(c.get("db"), name);
  if (!row?.policy) throw adminError.notFound(`repository ${name} has no policy`);
  await setRepositoryPolicy(c.get("db"), name, null);
  return c.json({ repositoryName: name, policyText: row.policy });
});
