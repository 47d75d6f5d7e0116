/**
 * D1 access to users, their access keys and their inline identity policies.
 */
import { and, asc, eq } from "drizzle-orm";
import type { Database } from "./database";
import { accessKeys, userPolicies, users } from "./schema";

export interface UserRecord {
  name: string;
  id: string;
  createdAt: number;
  policies: { name: string; document: string }[];
  accessKeyIds: string[];
}

/** The user owning an access key, with the key's stored hash and sealed secret; one query. */
export async function findAccessKey(
  db: Database,
  id: string,
): Promise<{ user: string; secretHash: string; secretSealed: string | null } | undefined> {
  return db
    .select({ user: accessKeys.user, secretHash: accessKeys.secretHash, secretSealed: accessKeys.secretSealed })
    .from(accessKeys)
    .where(eq(accessKeys.id, id))
    .get();
}

/** The user's unique id and policy documents, or undefined when there is no such user; one round trip. */
export async function findUserPolicies(
  db: Database,
  name: string,
): Promise<{ id: string; documents: string[] } | undefined> {
  const [userRows, policyRows] = await db.batch([
    db.select({ id: users.id }).from(users).where(eq(users.name, name)),
    db.select({ document: userPolicies.document }).from(userPolicies).where(eq(userPolicies.user, name)),
  ]);
  const user = userRows[0];
  return user ? { id: user.id, documents: policyRows.map((row) => row.document) } : undefined;
}

export async function findUser(db: Database, name: string): Promise<UserRecord | undefined> {
  const [userRows, policyRows, keyRows] = await db.batch([
    db.select().from(users).where(eq(users.name, name)),
    db
      .select({ name: userPolicies.name, document: userPolicies.document })
      .from(userPolicies)
      .where(eq(userPolicies.user, name)),
    db.select({ id: accessKeys.id }).from(accessKeys).where(eq(accessKeys.user, name)),
  ]);
  const user = userRows[0];
  if (!user) return undefined;
  return {
    name: user.name,
    id: user.id,
    createdAt: user.createdAt,
    policies: policyRows,
    accessKeyIds: keyRows.map((row) => row.id),
  };
}

export async function listUserNames(db: Database): Promise<string[]> {
  const rows = await db.select({ name: users.name }).from(users).orderBy(asc(users.name));
  return rows.map((row) => row.name);
}

/** False when the user already exists. */
export async function insertUser(db: Database, name: string, now: number): Promise<boolean> {
  const inserted = await db
    .insert(users)
    .values({ name, id: crypto.randomUUID(), createdAt: now })
    .onConflictDoNothing()
    .returning({ name: users.name });
  return inserted.length > 0;
}

/** Deletes the user with its keys and policies (cascade); false when there was none. */
export async function deleteUser(db: Database, name: string): Promise<boolean> {
  const removed = await db.delete(users).where(eq(users.name, name)).returning({ name: users.name });
  return removed.length > 0;
}

export async function insertAccessKey(
  db: Database,
  user: string,
  id: string,
  secret: { hash: string; sealed: string | null },
  now: number,
): Promise<void> {
  await db
    .insert(accessKeys)
    .values({ id, user, secretHash: secret.hash, secretSealed: secret.sealed, createdAt: now });
}

export async function deleteAccessKey(db: Database, user: string, id: string): Promise<boolean> {
  const removed = await db
    .delete(accessKeys)
    .where(and(eq(accessKeys.user, user), eq(accessKeys.id, id)))
    .returning({ id: accessKeys.id });
  return removed.length > 0;
}

export async function putUserPolicy(db: Database, user: string, name: string, document: string): Promise<void> {
  await db
    .insert(userPolicies)
    .values({ user, name, document })
    .onConflictDoUpdate({ target: [userPolicies.user, userPolicies.name], set: { document } });
}

export async function deleteUserPolicy(db: Database, user: string, name: string): Promise<boolean> {
  const removed = await db
    .delete(userPolicies)
    .where(and(eq(userPolicies.user, user), eq(userPolicies.name, name)))
    .returning({ name: userPolicies.name });
  return removed.length > 0;
}
