/**
 * Who is calling: resolves Basic credentials (an access key, the bootstrap admin's key, or
 * user `AWS` with an authorization token) and token subjects to a principal with its
 * identity policies. Secrets are never logged or echoed.
 */
import type { Database } from "../storage/database";
import { findAccessKey, findUserPolicies } from "../storage/identity-records";
import { userArn } from "./access";
import type { Principal } from "./caller";
import type { AuthConfig } from "./config";
import { storedPolicy } from "./policy/cache";
import { parsePolicyDocument } from "./policy/document";
import { hashSecret, secretsEqual, verifyKeySecret } from "./secrets";
import { verifyLoginToken } from "./tokens";

/** The bootstrap admin's user name; no stored user may take it. */
export const ADMIN_USER = "admin";
const ADMIN_USER_ID = "bootstrap-admin";
const ADMIN_POLICY = parsePolicyDocument(
  JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }),
  "identity",
);

/**
 * Another account, as this registry knows it: a stored "user" named `account:<id>` whose access
 * keys a replicating registry of that account pushes with (src/admin/peer-accounts.ts). IAM user
 * names cannot contain ":", so no user of this account can take such a name.
 */
const PEER_ACCOUNT_USER = /^account:(\d{12})$/;

export function peerAccountUserName(accountId: string): string {
  return `account:${accountId}`;
}

/** The account id of a peer account's user name, or null for a user of this account. */
export function peerAccountOf(username: string): string | null {
  return PEER_ACCOUNT_USER.exec(username)?.[1] ?? null;
}

/** The stored user name a principal ARN resolves to: a user of this account, or another account's root. */
export function usernameFromArn(config: AuthConfig, arn: string): string | null {
  const prefix = `arn:aws:iam::${config.accountId}:user/`;
  if (arn.startsWith(prefix)) return arn.slice(prefix.length);
  const root = /^arn:aws:iam::(\d{12}):root$/.exec(arn)?.[1];
  return root !== undefined && root !== config.accountId ? peerAccountUserName(root) : null;
}

/** The principal for a user name, or null when no such user exists (any more). */
export async function loadPrincipal(db: Database, config: AuthConfig, username: string): Promise<Principal | null> {
  const arn = userArn(config.accountId, username);
  if (username === ADMIN_USER) {
    return config.admin
      ? { arn, username, userId: ADMIN_USER_ID, accountId: config.accountId, identityPolicies: [ADMIN_POLICY] }
      : null;
  }
  const found = await findUserPolicies(db, username);
  if (!found) return null;
  const peer = peerAccountOf(username);
  if (peer !== null) {
    // Another account's root: no identity policies here; the registry policy decides (decision.ts).
    return {
      arn: `arn:aws:iam::${peer}:root`,
      username,
      userId: found.id,
      accountId: peer,
      identityPolicies: [],
      crossAccount: true,
    };
  }
  return {
    arn,
    username,
    userId: found.id,
    accountId: config.accountId,
    identityPolicies: found.documents.map((text) => storedPolicy(text, "identity")),
  };
}

/**
 * The principal a token was issued to, if that very user still exists: a user deleted and
 * created again under the same name does not inherit the old user's tokens.
 */
export async function loadTokenPrincipal(
  db: Database,
  config: AuthConfig,
  subject: { arn: string; userId: string },
): Promise<Principal | null> {
  const username = usernameFromArn(config, subject.arn);
  const principal = username === null ? null : await loadPrincipal(db, config, username);
  return principal?.userId === subject.userId ? principal : null;
}

/** The bootstrap admin's secret hashed like a stored key's, once per isolate (see authenticateBasic). */
let adminHash: { secret: string; hash: Promise<string> } | null = null;

function adminSecretHash(secret: string): Promise<string> {
  if (adminHash?.secret !== secret) adminHash = { secret, hash: hashSecret(secret) };
  return adminHash.hash;
}

/**
 * Checks Basic credentials; null when they are not valid.
 *
 * Every access key id, known, unknown or the bootstrap admin's, costs the same: one D1 lookup
 * and one PBKDF2 check of the secret (against a hash of equal cost when the key does not exist),
 * so the time a refusal takes does not tell which key ids exist.
 *
 * `admitted` is the failed-login throttle's verdict (login-guard.ts), awaited together with
 * the lookup: a throttled attempt is refused before any secret is checked.
 */
export async function authenticateBasic(
  db: Database,
  config: AuthConfig,
  user: string,
  password: string,
  admitted: Promise<void> = Promise.resolve(),
): Promise<Principal | null> {
  if (user === "AWS") {
    await admitted;
    const subject = await verifyLoginToken(config, password);
    return subject === null ? null : loadTokenPrincipal(db, config, subject);
  }
  const admin = config.admin;
  const [, key, isAdmin] = await Promise.all([
    admitted,
    findAccessKey(db, user),
    admin ? secretsEqual(user, admin.accessKeyId) : false,
  ]);
  const stored = isAdmin && admin ? await adminSecretHash(admin.secret) : key?.secretHash;
  const owner = isAdmin ? ADMIN_USER : key?.user;
  if (!(await verifyKeySecret(password, stored)) || owner === undefined) return null;
  return loadPrincipal(db, config, owner);
}

/** Decodes an `Authorization: Basic` value; null when it is not well formed. */
export function decodeBasic(value: string): { user: string; password: string } | null {
  let decoded: string;
  try {
    decoded = atob(value.trim());
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
