/**
 * The registry's own secrets, in the place of AWS Secrets Manager: credentials for upstream
 * registries of pull-through cache rules.
 *   PUT    /admin/secrets/ecr-pullthroughcache/<name>   {"username", "accessToken"}
 *   DELETE /admin/secrets/ecr-pullthroughcache/<name>
 * The value is sealed with REGISTRY_SECRETS_KEY and never returned; the answer gives the ARN
 * that CreatePullThroughCacheRule's `credentialArn` takes.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { authConfig } from "../auth/config";
import { sealSecret } from "../auth/sealed-secrets";
import { deleteRegistrySecret, putRegistrySecret } from "../storage/pull-through-records";
import { SECRET_PREFIX } from "../pull-through/rules";
import { forgetRules } from "../pull-through/targets";
import { requireIdentityAction } from "./authorize";
import { adminError, readJsonInput } from "./input";

export const secretRoutes = new Hono<AppEnv>();

/** An upstream's user name and token: what registries issue fits well within this. */
const SECRET_MEMBER = { min: 1, max: 8192 };
const SECRET_NAME = /^ecr-pullthroughcache\/[A-Za-z0-9/_+=.@-]{1,480}$/;

function requireSecretName(name: string): string {
  if (!SECRET_NAME.test(name))
    throw adminError.invalid(`secret names start with ${SECRET_PREFIX} and use letters, digits and /_+=.@-`);
  return name;
}

secretRoutes.put("/secrets/:name{.+}", async (c) => {
  const name = requireSecretName(c.req.param("name"));
  await requireIdentityAction(c, "secretsmanager:PutSecretValue", null);
  const input = await readJsonInput(c);
  const secret = {
    username: input.string("username", SECRET_MEMBER),
    accessToken: input.string("accessToken", SECRET_MEMBER),
  };
  const config = await authConfig(c.var.settings.auth);
  if (config.secretsKey === null)
    throw adminError.invalid("REGISTRY_SECRETS_KEY is not configured: secrets cannot be stored");
  const sealed = await sealSecret(config.secretsKey, name, JSON.stringify(secret));
  await putRegistrySecret(c.get("db"), name, sealed, Date.now());
  forgetRules();
  return c.json({ name, arn: `arn:aws:secretsmanager:${config.region}:${config.accountId}:secret:${name}` });
});

secretRoutes.delete("/secrets/:name{.+}", async (c) => {
  const name = requireSecretName(c.req.param("name"));
  await requireIdentityAction(c, "secretsmanager:DeleteSecret", null);
  if (!(await deleteRegistrySecret(c.get("db"), name))) throw adminError.notFound(`secret ${name} does not exist`);
  forgetRules();
  return c.body(null, 204);
});
