/**
 * Authentication middleware: turns the Authorization header into the request's caller
 * (a verified bearer token, a principal from Basic credentials, or anonymous). Bad
 * credentials are a 401 with the challenge, and count against the failed-login throttles (a
 * throttled key or address gets 429 TOOMANYREQUESTS); the credentials are never echoed.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { OciError } from "../errors";
import { unauthorized } from "./authorizer";
import { authConfig } from "./config";
import { admitLogin, loginThrottles, recordLoginFailure } from "./login-guard";
import { authenticateBasic, decodeBasic } from "./principals";
import { verifyRegistryToken } from "./tokens";

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization");
  if (!header) {
    c.set("caller", { kind: "anonymous" });
    return next();
  }
  const config = await authConfig(c.var.settings.auth);
  const [scheme = "", value = ""] = header.split(/\s+/, 2);
  if (scheme.toLowerCase() === "bearer") {
    const claims = await verifyRegistryToken(config, value);
    if (!claims) throw unauthorized(c, config, null, "invalid or expired token", "invalid_token");
    c.set("caller", {
      kind: "token",
      subject: claims.sub,
      userId: claims.uid,
      access: claims.access,
      ...(claims.akid === undefined ? {} : { accessKeyId: claims.akid }),
    });
    return next();
  }
  if (scheme.toLowerCase() === "basic") {
    const credentials = decodeBasic(value);
    if (!credentials) throw unauthorized(c, config, null, "invalid credentials");
    const throttles = loginThrottles(c, credentials.user);
    const admitted = admitLogin(c.env, throttles, OciError.TOOMANYREQUESTS);
    const principal = await authenticateBasic(c.get("db"), config, credentials.user, credentials.password, admitted);
    if (!principal) {
      await recordLoginFailure(c.env, throttles);
      throw unauthorized(c, config, null, "invalid credentials");
    }
    c.set("caller", { kind: "principal", principal });
    return next();
  }
  throw unauthorized(c, config, null, `unsupported authorization scheme "${scheme}"`);
});
