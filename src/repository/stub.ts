/**
 * Reaching a repository's Durable Object, and running D1 writes that need the repository row.
 */
import { isForeignKeyFailure } from "../storage/database";

export function repositoryObject(
  env: Env,
  name: string,
): DurableObjectStub<import("./repository-object").RepositoryObject> {
  return env.REPOSITORY.get(env.REPOSITORY.idFromName(name));
}

/**
 * Runs a write that references the repository row; if the row is missing (first push, or a
 * repository recreated since), has the repository's object create it and runs the write again.
 */
export async function withRepository<T>(env: Env, name: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isForeignKeyFailure(error)) throw error;
    await repositoryObject(env, name).ensureRepository(name, true);
    return write();
  }
}
