/**
 * Other accounts that may replicate into this registry (ECR's cross-account replication, whose
 * source account is named in the destination's registry policy):
 *   PUT    /admin/peer-accounts/<accountId>   a new access key for that account's registry to
 *                                             push with (the secret is returned once); the
 *                                             account's principal is arn:aws:iam::<id>:root
 *   GET    /admin/peer-accounts               the accounts and their access key ids
 *   DELETE /admin/peer-accounts/<accountId>   the account and all its keys
 * A peer account has no identity policies: it is granted what the registry policy
 * (PutRegistryPolicy) grants it, ecr:ReplicateImage and ecr:CreateRepository, and nothing else.
 */
import { Hono } from "hono";
import type { AppContext, AppEnv } from "../app-env";
import { authConfig } from "../auth/config";
import { peerAccountOf, peerAccountUserName } from "../auth/principals";
import { issueAccessKey } from "../auth/access-keys";
import { deleteUser, findUser, insertUser, listUserNames } from "../storage/identity-records";
import { requireIdentityAction } from "./authorize";
import { adminError } from "./input";

export const peerAccountRoutes = new Hono<AppEnv>();

async function requireAccountId(c: AppContext): Promise<string> {
  const accountId = c.req.param("accountId") ?? "";
  if (!/^\d{12}$/.test(accountId)) throw adminError.invalid(`account id "${accountId}" is not 12 digits`);
  if (accountId === (await authConfig(c.var.settings.auth)).accountId)
    throw adminError.invalid(`${accountId} is this registry's own account`);
  return accountId;
}

peerAccountRoutes.put("/peer-accounts/:accountId", async (c) => {
  const accountId = await requireAccountId(c);
  const user = peerAccountUserName(accountId);
  await requireIdentityAction(c, "iam:CreateAccessKey", user);
  const db = c.get("db");
  await insertUser(db, user, Date.now());
  const key = await issueAccessKey(db, c.var.settings.auth, user);
  return c.json(
    {
      accountId,
      principalArn: `arn:aws:iam::${accountId}:root`,
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secret,
    },
    201,
    { "Cache-Control": "no-store" },
  );
});

peerAccountRoutes.get("/peer-accounts", async (c) => {
  await requireIdentityAction(c, "iam:ListUsers", null);
  const db = c.get("db");
  const accounts = [];
  for (const name of await listUserNames(db)) {
    const accountId = peerAccountOf(name);
    if (accountId === null) continue;
    const user = await findUser(db, name);
    if (user !== undefined) accounts.push({ accountId, accessKeyIds: user.accessKeyIds });
  }
  return c.json({ accounts });
});

peerAccountRoutes.delete("/peer-accounts/:accountId", async (c) => {
  const accountId = await requireAccountId(c);
  const user = peerAccountUserName(accountId);
  await requireIdentityAction(c, "iam:DeleteUser", user);
  if (!(await deleteUser(c.get("db"), user))) throw adminError.notFound(`account ${accountId} is not a peer account`);
  return c.body(null, 204);
});
