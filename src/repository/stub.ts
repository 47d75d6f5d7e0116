/**
 * Reaching a repository's Durable Object, and running D1 writes that need the repository row.
 */
import { OciError, RegistryError } from "../errors";
import { isForeignKeyFailure } from "../storage/database";
import type { AppliedFor } from "./creation-templates";

export function repositoryObject(
  env: Env,
  name: string,
): DurableObjectStub<import("./repository-object").RepositoryObject> {
  return env.REPOSITORY.get(env.REPOSITORY.idFromName(name));
}

/**
 * Runs a write that references the repository row; if the row is missing (first push, or a
 * repository recreated since), has the repository's object create it (for `reason`) and runs
 * the write again.
 */
export async function withRepository<T>(
  env: Env,
  name: string,
  write: () => Promise<T>,
  reason: AppliedFor = "CREATE_ON_PUSH",
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isForeignKeyFailure(error)) throw error;
    if (!(await repositoryObject(env, name).ensureRepository(name, true, reason)))
      throw new RegistryError(
        OciError.NAME_UNKNOWN,
        `repository ${name} does not exist, and no CREATE_ON_PUSH creation template covers it (CREATE_ON_PUSH is "template")`,
      );
    return write();
  }
}
