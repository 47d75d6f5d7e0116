/**
 * ECR's control plane: `POST /` speaking AWS JSON 1.1
 * (`X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Action>`), SigV4-signed with the
 * registry's access keys, so the AWS CLI and SDKs work with `--endpoint-url` / `endpoint`.
 * ECR Public's catalog actions share the endpoint under their own target prefix and signing
 * name (`aws ecr-public`). Each action is one entry of its API's dispatch table; the handlers
 * live in `actions/` by group.
 */
import { Hono } from "hono";
import type { AppContext, AppEnv } from "../app-env";
import type { Principal } from "../auth/caller";
import { authConfig } from "../auth/config";
import { ADMIN_USER, loadPrincipal } from "../auth/principals";
import { admitLogin, loginThrottles, recordLoginFailure } from "../auth/login-guard";
import type { ThrottleTarget } from "../auth/login-throttle";
import { NOTHING_SEALED, openSecret } from "../auth/sealed-secrets";
import { secretsEqual } from "../auth/secrets";
import { noteAudit } from "../audit/capture";
import { readAtMost } from "../bytes";
import { EcrError, RegistryError } from "../errors";
import { bodyTimeout, declaredBodyLength } from "../request-body";
import { findAccessKey } from "../storage/identity-records";
import { catalogActions } from "./actions/catalog";
import { imageActions } from "./actions/images";
import { layerActions } from "./actions/layers";
import { lifecycleActions } from "./actions/lifecycle";
import { pullThroughActions } from "./actions/pull-through";
import { registryActions } from "./actions/registry";
import { repositoryActions } from "./actions/repositories";
import { scanningActions } from "./actions/scanning";
import { templateActions } from "./actions/templates";
import { controlContext, type ActionHandler } from "./context";
import { ecrInput, isObject, parseJsonObject, type JsonObject } from "./input";
import { SIGV4_PUBLIC_SERVICE, SIGV4_SERVICE, verifySigV4 } from "./sigv4";

export const TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921.";
/** ECR Public's target prefix (its API model's `targetPrefix`). */
export const PUBLIC_TARGET_PREFIX = "SpencerFrontendService.";
export const AWS_JSON_CONTENT_TYPE = "application/x-amz-json-1.1";
/** Bodies above this are refused before they are read (an UploadLayerPart of 20 MiB, base64). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * The dispatch table, a Map: the action name comes from the request, and a plain object would
 * also answer `constructor`, `toString` or `__proto__` from Object.prototype.
 */
const ACTIONS: ReadonlyMap<string, ActionHandler> = new Map(
  Object.entries({
    ...registryActions,
    ...repositoryActions,
    ...scanningActions,
    ...templateActions,
    ...imageActions,
    ...layerActions,
    ...lifecycleActions,
    ...pullThroughActions,
  }),
);

/** Names of the actions served, for documentation and tests. */
export const SUPPORTED_ACTIONS: readonly string[] = [...ACTIONS.keys()].sort();

/** An API served on `POST /`: its actions and the service name its requests are signed for. */
interface Api {
  actions: ReadonlyMap<string, ActionHandler>;
  service: string;
}

/** The APIs by X-Amz-Target prefix. */
const APIS: ReadonlyMap<string, Api> = new Map([
  [TARGET_PREFIX, { actions: ACTIONS, service: SIGV4_SERVICE }],
  [PUBLIC_TARGET_PREFIX, { actions: new Map(Object.entries(catalogActions)), service: SIGV4_PUBLIC_SERVICE }],
]);

/** The target's API and action; an unknown prefix is no API, and its action the whole target (for the audit record). */
function resolveTarget(target: string): { api: Api | undefined; action: string } {
  for (const [prefix, api] of APIS) {
    if (target.startsWith(prefix)) return { api, action: target.slice(prefix.length) };
  }
  return { api: undefined, action: target };
}

/**
 * The parameters kept on the audit record: the bytes some actions carry (UploadLayerPart's
 * layerPartBlob, the catalog data's logoImageBlob) are content, not parameters worth keeping.
 */
function auditedParameters(parsed: JsonObject): JsonObject {
  const { layerPartBlob: _bytes, ...parameters } = parsed;
  if (!isObject(parameters.catalogData)) return parameters;
  const { logoImageBlob: _logo, ...catalogData } = parameters.catalogData;
  return { ...parameters, catalogData };
}

export const controlRoutes = new Hono<AppEnv>();

/** Reads on the pull path: counted per principal and minute on the audit trail, like `/v2` pulls. */
const PULL_ACTIONS: ReadonlySet<string> = new Set([
  "BatchGetImage",
  "GetDownloadUrlForLayer",
  "BatchCheckLayerAvailability",
]);

controlRoutes.post("/", async (c) => {
  const target = c.req.header("X-Amz-Target") ?? "";
  const { api, action } = resolveTarget(target);
  noteAudit(c, {
    eventName: action.slice(0, 128),
    source: "ecr.amazonaws.com",
    aggregate: PULL_ACTIONS.has(action),
    readOnly: /^(Describe|List|Get|BatchGet|BatchCheck)/.test(action),
  });
  const tooLarge = () =>
    new RegistryError(EcrError.InvalidParameterException, `request body exceeds ${MAX_BODY_BYTES} bytes`);
  declaredBodyLength(c.req.raw.headers, MAX_BODY_BYTES, {
    invalid: (message) => new RegistryError(EcrError.InvalidParameterException, message),
    tooLarge,
  });
  const timeout = bodyTimeout(
    c.var.settings,
    () =>
      new RegistryError(
        EcrError.RequestTimeoutException,
        `the request body stopped arriving for ${timeout.ms / 1000} s`,
      ),
  );
  const body = await readAtMost(c.req.raw.body, MAX_BODY_BYTES, tooLarge, timeout);
  const principal = await authenticate(c, body, api?.service ?? SIGV4_SERVICE);

  c.set("caller", { kind: "principal", principal });
  const handler = api?.actions.get(action);
  if (handler === undefined)
    throw new RegistryError(EcrError.UnknownOperationException, `unknown operation "${target}"`);

  const parsed = parseJsonObject(body, (message) => new RegistryError(EcrError.SerializationException, message));
  noteAudit(c, {
    requestParameters: auditedParameters(parsed),
    ...(typeof parsed.repositoryName === "string" ? { repository: parsed.repositoryName } : {}),
  });
  const output = await handler(controlContext(c, await authConfig(c.var.settings.auth), principal, ecrInput(parsed)));
  return new Response(JSON.stringify(output), { status: 200, headers: { "Content-Type": AWS_JSON_CONTENT_TYPE } });
});

/**
 * Verifies the SigV4 signature and returns the principal of the access key that made it.
 * Every access key id (known, unknown or the bootstrap admin's) costs one D1 lookup, one unseal
 * and one signature computation, so the time a refusal takes does not tell which ids exist
 * (ECR's own error types still do: UnrecognizedClientException for an unknown key,
 * InvalidSignatureException for a wrong signature). Refusals after the lookup count against
 * the failed-login throttles, whose verdict is fetched with the lookup: a throttled key or
 * address gets ThrottlingException before any secret is unsealed.
 */
async function authenticate(c: AppContext, body: Uint8Array, service: string): Promise<Principal> {
  const config = await authConfig(c.var.settings.auth);
  const db = c.get("db");
  let username: string | null = null;
  let throttles: ThrottleTarget[] | null = null;
  const findSecret = async (accessKeyId: string): Promise<string | null> => {
    const candidates = loginThrottles(c, accessKeyId);
    const admin = config.admin;
    const [, key, isAdmin] = await Promise.all([
      admitLogin(c.env, candidates, EcrError.ThrottlingException),
      findAccessKey(db, accessKeyId),
      admin ? secretsEqual(accessKeyId, admin.accessKeyId) : false,
    ]);
    throttles = candidates;
    if (!isAdmin && key && (key.secretSealed === null || config.secretsKey === null)) {
      throw new RegistryError(
        EcrError.UnrecognizedClientException,
        `access key ${accessKeyId} cannot sign requests: it was created before REGISTRY_SECRETS_KEY was configured; create a new access key`,
      );
    }
    const sealed = !isAdmin && key?.secretSealed ? key.secretSealed : NOTHING_SEALED;
    const opened = config.secretsKey ? await openSecret(config.secretsKey, accessKeyId, sealed) : null;
    if (isAdmin && admin) {
      username = ADMIN_USER;
      return admin.secret;
    }
    if (!key) return null;
    username = key.user;
    return opened;
  };
  try {
    await verifySigV4(
      { method: c.req.method, url: new URL(c.req.url), headers: c.req.raw.headers, body, service },
      findSecret,
    );
  } catch (error) {
    if (throttles !== null && error instanceof RegistryError) await recordLoginFailure(c.env, throttles);
    throw error;
  }
  const principal = username === null ? null : await loadPrincipal(db, config, username);
  if (principal === null) throw new RegistryError(EcrError.UnrecognizedClientException);
  return principal;
}
