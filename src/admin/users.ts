/**
 * Admin API for identities: users, access keys and inline identity policies, authorized with
 * IAM action names (`iam:CreateUser`, `iam:CreateAccessKey`, `iam:PutUserPolicy`, ...).
 * An access key's secret is returned once, when it is created, and never stored in clear.
 */
import { Hono } from "hono";
import type { AppContext, AppEnv } from "../app-env";
import { userArn } from "../auth/access";
import { authConfig } from "../auth/config";
import { parsePolicyDocument, PolicyError } from "../auth/policy/document";
import { ADMIN_USER, peerAccountOf } from "../auth/principals";
import { issueAccessKey, revokeAccessKey } from "../auth/access-keys";
import { issueLoginToken } from "../auth/tokens";
import { deleteConsoleSessionsOf } from "../storage/console-records";
import {
  deleteUser,
  deleteUserPolicy,
  findUser,
  insertUser,
  listUserNames,
  putUserPolicy,
} from "../storage/identity-records";
import { requireIdentityAction } from "./authorize";
import { adminError, readJsonInput, readText } from "./input";
import { presentUser } from "./present";

export const userRoutes = new Hono<AppEnv>();

const USER_NAME = /^[A-Za-z0-9+=,.@_-]{1,64}$/;
const POLICY_NAME = /^[A-Za-z0-9+=,.@_-]{1,128}$/;

function requireUserName(name: string): string {
  if (!USER_NAME.test(name)) throw adminError.invalid(`invalid user name "${name}": 1-64 of A-Z a-z 0-9 + = , . @ _ -`);
  return name;
}

async function requireUser(c: AppContext, name: string) {
  const user = await findUser(c.get("db"), name);
  if (!user) throw adminError.notFound(`user ${name} does not exist`);
  return user;
}

userRoutes.get("/users", async (c) => {
  await requireIdentityAction(c, "iam:ListUsers", null);
  // Peer accounts (src/admin/peer-accounts.ts) are listed there, not as users.
  return c.json({ users: (await listUserNames(c.get("db"))).filter((name) => peerAccountOf(name) === null) });
});

userRoutes.post("/users", async (c) => {
  const name = requireUserName((await readJsonInput(c)).string("name"));
  await requireIdentityAction(c, "iam:CreateUser", name);
  if (name === ADMIN_USER) throw adminError.conflict(`"${ADMIN_USER}" is the bootstrap administrator's name`);
  if (!(await insertUser(c.get("db"), name, Date.now()))) throw adminError.conflict(`user ${name} already exists`);
  const config = await authConfig(c.var.settings.auth);
  return c.json({ name, arn: userArn(config.accountId, name) }, 201);
});

userRoutes.get("/users/:name", async (c) => {
  const name = requireUserName(c.req.param("name"));
  await requireIdentityAction(c, "iam:GetUser", name);
  const user = await requireUser(c, name);
  const config = await authConfig(c.var.settings.auth);
  return c.json({ ...presentUser(user), arn: userArn(config.accountId, name) });
});

userRoutes.delete("/users/:name", async (c) => {
  const name = requireUserName(c.req.param("name"));
  await requireIdentityAction(c, "iam:DeleteUser", name);
  if (!(await deleteUser(c.get("db"), name))) throw adminError.notFound(`user ${name} does not exist`);
  // Its console sessions end with it.
  await deleteConsoleSessionsOf(c.get("db"), name);
  return c.body(null, 204);
});

userRoutes.post("/users/:name/access-keys", async (c) => {
  const name = requireUserName(c.req.param("name"));
  await requireIdentityAction(c, "iam:CreateAccessKey", name);
  await requireUser(c, name);
  const key = await issueAccessKey(c.get("db"), c.var.settings.auth, name);
  return c.json({ userName: name, accessKeyId: key.accessKeyId, secretAccessKey: key.secret }, 201, {
    "Cache-Control": "no-store",
  });
});

userRoutes.delete("/users/:name/access-keys/:id", async (c) => {
  const name = requireUserName(c.req.param("name"));
  await requireIdentityAction(c, "iam:DeleteAccessKey", name);
  if (!(await revokeAccessKey(c.get("db"), name, c.req.param("id"))))
    throw adminError.notFound(`user ${name} has no such access key`);
  return c.body(null, 204);
});

userRoutes.put("/users/:name/policies/:policy", async (c) => {
  const name = requireUserName(c.req.param("name"));
  const policyName = c.req.param("policy");
  if (!POLICY_NAME.test(policyName)) throw adminError.invalid(`invalid policy name "${policyName}"`);
  await requireIdentityAction(c, "iam:PutUserPolicy", name);
  await requireUser(c, name);
  const text = await readText(c);
  try {
    parsePolicyDocument(text, "identity");
  } catch (error) {
    if (error instanceof PolicyError) throw adminError.invalid(`invalid policy document: ${error.message}`);
    throw error;
  }
  await putUserPolicy(c.get("db"), name, policyName, text);
  return c.body(null, 204);
});

userRoutes.delete("/users/:name/policies/:policy", async (c) => {
  const name = requireUserName(c.req.param("name"));
  await requireIdentityAction(c, "iam:DeleteUserPolicy", name);
  if (!(await deleteUserPolicy(c.get("db"), name, c.req.param("policy")))) {
    throw adminError.notFound(`user ${name} has no policy ${c.req.param("policy")}`);
  }
  return c.body(null, 204);
});

/** What ECR's GetAuthorizationToken returns: `base64("AWS:" + password)`, valid 12 hours. */
userRoutes.get("/authorization-token", async (c) => {
  const principal = await requireIdentityAction(c, "ecr:GetAuthorizationToken", null);
  const config = await authConfig(c.var.settings.auth);
  const login = await issueLoginToken(config, principal);
  return c.json(
    {
      authorizationToken: btoa(`AWS:${login.token}`),
      expiresAt: login.expiresAt.toISOString(),
      proxyEndpoint: new URL(c.req.url).origin,
    },
    200,
    { "Cache-Control": "no-store" },
  );
});
