/**
 * Failed-login throttling where credentials are checked (Basic on /v2, /admin and /token, the
 * token service's password grant, SigV4 on the ECR API): which throttles an attempt counts
 * against, the verdict asked for before any secret is checked (a throttled attempt is refused
 * with 429 and Retry-After, whatever its secret), and the failure counted after a refusal.
 * Successful logins are never counted; the verdict is fetched alongside the access key lookup,
 * so it does not lengthen them.
 */
import type { AppContext } from "../app-env";
import { RegistryError, type ErrorDescriptor } from "../errors";
import { settingsOf } from "../config/load";
import { throttleTargets, type ThrottleTarget } from "./login-throttle";

/** The throttles a login with `accessKeyId` (null: no key id, e.g. a login token) counts against. */
export function loginThrottles(c: AppContext, accessKeyId: string | null): ThrottleTarget[] {
  return throttleTargets(c.var.settings.loginThrottle, accessKeyId, c.req.header("CF-Connecting-IP") ?? null);
}

function throttle(env: Env, target: ThrottleTarget) {
  return env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(target.name));
}

/** Resolves when no throttle refuses the login; rejects with a 429 of `tooMany` otherwise. */
export async function admitLogin(
  env: Env,
  targets: readonly ThrottleTarget[],
  tooMany: ErrorDescriptor,
): Promise<void> {
  if (targets.length === 0) return;
  const waits = await Promise.all(targets.map((target) => throttle(env, target).throttledFor(target.limit)));
  const wait = Math.max(...waits);
  if (wait > 0) {
    const seconds = Math.ceil(wait / 1000);
    throw new RegistryError(
      tooMany,
      `too many failed logins for this access key or from this address; try again in ${seconds} s`,
      null,
      {
        "Retry-After": String(seconds),
      },
    );
  }
}

/** Counts a refused login against each of its throttles. */
export async function recordLoginFailure(env: Env, targets: readonly ThrottleTarget[]): Promise<void> {
  const windowMs = settingsOf(env).loginThrottle.windowMs;
  await Promise.all(targets.map((target) => throttle(env, target).recordFailure(target.limit, windowMs)));
}
