/**
 * Admin routes (until the ECR control plane arrives): create a repository and set its tag
 * mutability. `PUT /admin/repositories/<name>` with `{"imageTagMutability":"IMMUTABLE"}`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireName } from "../distribution/validate";
import { OciError, RegistryError } from "../errors";
import { repositoryObject } from "../repository/stub";
import { findRepository } from "../storage/repository-records";
import { TAG_MUTABILITY, type TagMutability } from "../storage/schema";

export const admin = new Hono<AppEnv>();

function isTagMutability(value: unknown): value is TagMutability {
  return typeof value === "string" && (TAG_MUTABILITY as readonly string[]).includes(value);
}

admin.put("/repositories/:name{.+}", async (c) => {
  const name = requireName(c.req.param("name"));
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new RegistryError(OciError.UNSUPPORTED, "body must be JSON");
  }
  const mutability = typeof body === "object" && body !== null ? (body as Record<string, unknown>).imageTagMutability : undefined;
  if (!isTagMutability(mutability)) {
    throw new RegistryError(OciError.UNSUPPORTED, `imageTagMutability must be one of ${TAG_MUTABILITY.join(", ")}`);
  }
  const repository = repositoryObject(c.env, name);
  await repository.ensureRepository(name, true);
  await repository.setTagMutability(name, mutability);
  return c.json({ name, imageTagMutability: mutability });
});

admin.get("/repositories/:name{.+}", async (c) => {
  const name = requireName(c.req.param("name"));
  const row = await findRepository(c.get("db"), name);
  if (!row) throw new RegistryError(OciError.NAME_UNKNOWN, `repository ${name} is not known to the registry`);
  return c.json(row);
});
