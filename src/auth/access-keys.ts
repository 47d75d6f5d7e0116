/**
 * Issuing and revoking access keys, the one way every surface does it (the admin API, peer
 * accounts, the console): a new key's secret is kept as a hash (Basic logins) and, when
 * REGISTRY_SECRETS_KEY is set, sealed (SigV4 needs it back); revoking a key also signs its
 * user out of the console, so a session cannot outlive the key that opened it.
 */
import type { AuthSettings } from "../config/settings";
import { deleteConsoleSessionsOf } from "../storage/console-records";
import type { Database } from "../storage/database";
import { deleteAccessKey, insertAccessKey } from "../storage/identity-records";
import { authConfig } from "./config";
import { sealSecret } from "./sealed-secrets";
import { hashSecret, newAccessKey } from "./secrets";

/** A new key for `user` (who must exist); its secret is returned once and never again. */
export async function issueAccessKey(
  db: Database,
  settings: AuthSettings,
  user: string,
): Promise<{ accessKeyId: string; secret: string }> {
  const key = newAccessKey();
  const { secretsKey } = await authConfig(settings);
  const sealed = secretsKey === null ? null : await sealSecret(secretsKey, key.accessKeyId, key.secret);
  await insertAccessKey(db, user, key.accessKeyId, { hash: await hashSecret(key.secret), sealed }, Date.now());
  return key;
}

/** Deletes the key and ends the user's console sessions; false when the user has no such key. */
export async function revokeAccessKey(db: Database, user: string, accessKeyId: string): Promise<boolean> {
  if (!(await deleteAccessKey(db, user, accessKeyId))) return false;
  await deleteConsoleSessionsOf(db, user);
  return true;
}
