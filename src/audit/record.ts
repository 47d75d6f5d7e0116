/**
 * The audit trail's pure rules: which calls are recorded one row each, which are counted in
 * per-minute aggregates and which are not recorded; what a presented credential reveals (its
 * access key id, never its secret); how secrets are kept out of request parameters; and the
 * CloudTrail shape a stored row is presented in.
 */
import type { StoredAuditRow } from "../storage/audit-records";
import type { AuditNote } from "./note";

/** CloudTrail's own placeholder for a value it will not log. */
export const REDACTED = "HIDDEN_DUE_TO_SECURITY_REASONS";

/** Parameter names whose values are secrets, whatever the surface (compared without case, `_` or `-`). */
const SECRET_NAMES =
  /(secret|password|passwd|passphrase|credential|authorization|privatekey|signingkey|token|sealed|apikey|cookie|session)/;

/** Names that match the words above but hold no secret (pagination cursors, public ids, ARNs). */
const PUBLIC_NAMES = new Set(["nexttoken", "accesskeyid", "credentialarn", "tokenexpiry"]);

/** Values that are secrets whatever their name: JWTs, Standard Webhooks secrets, PEM keys, auth headers. */
const SECRET_VALUES = [
  /^eyJ[\w-]+\.[\w-]+\./,
  /whsec_/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^(basic|bearer|aws4-hmac-sha256) /i,
];

/** Larger parameters are not kept (CloudTrail omits request parameters over its own limit too). */
export const MAX_PARAMETERS_BYTES = 16 * 1024;
const MAX_DEPTH = 8;

function secretName(name: string): boolean {
  const plain = name.toLowerCase().replace(/[-_]/g, "");
  return !PUBLIC_NAMES.has(plain) && SECRET_NAMES.test(plain);
}

/** A copy of `value` with every secret replaced by REDACTED, by name and by shape. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return SECRET_VALUES.some((pattern) => pattern.test(value)) ? REDACTED : value;
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    copy[name] = secretName(name) ? REDACTED : redactSecrets(item, depth + 1);
  }
  return copy;
}

/** The same shapes found anywhere in a text (a message echoing its input), replaced in place. */
const SECRETS_IN_TEXT = [
  /eyJ[\w-]*\.[\w-]+\.[\w-]*/g,
  /whsec_[A-Za-z0-9+/=]*/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(basic|bearer|aws4-hmac-sha256) [A-Za-z0-9+/=._~,-]+/gi,
];

/** A caller's text (an error message, a user agent) with every secret-shaped part replaced. */
export function redactText(text: string): string {
  return SECRETS_IN_TEXT.reduce((redacted, pattern) => redacted.replace(pattern, REDACTED), text);
}

/** Request parameters as stored: secrets redacted, and none at all past MAX_PARAMETERS_BYTES. */
export function storedParameters(parameters: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (parameters === undefined) return null;
  const redacted = redactSecrets(parameters) as Record<string, unknown>;
  const text = JSON.stringify(redacted);
  return text.length > MAX_PARAMETERS_BYTES ? { omitted: `parameters over ${MAX_PARAMETERS_BYTES} bytes` } : redacted;
}

/** AWS-shaped key ids only: a secret typed where the id goes (mixed case) is not kept. */
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

/** `id` when it is shaped like an access key id, else null (never keep a mistyped secret). */
export function keptAccessKeyId(id: string): string | null {
  return id !== "AWS" && ACCESS_KEY_ID.test(id) ? id : null;
}

/**
 * The access key id a request's Authorization header presents (SigV4's Credential, Basic's user
 * name), or null (a bearer token, a login token's user `AWS`, nothing). Never the secret.
 */
export function presentedAccessKeyId(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const sigv4 = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  if (sigv4 !== undefined) return keptAccessKeyId(sigv4);
  const [scheme = "", value = ""] = authorization.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() !== "basic") return null;
  let decoded: string;
  try {
    decoded = atob(value);
  } catch {
    return null;
  }
  const user = decoded.slice(0, Math.max(0, decoded.indexOf(":")));
  return keptAccessKeyId(user);
}

export type Disposition = "record" | "aggregate" | "skip";

/**
 * How a finished call is kept. Refusals of presented credentials (401) and of authorization
 * (403) are one row each, as are writes, ECR API calls and admin calls; reads on the pull path
 * and throttled logins (429, which only an attacker repeats) are aggregated; a 401 challenge
 * to a request without credentials (every client's first request) and calls no surface named
 * (unknown paths) are not recorded.
 */
export function disposition(status: number, presentedCredentials: boolean, note: AuditNote): Disposition {
  if (status === 401) return presentedCredentials || note.credentialsPresented === true ? "record" : "skip";
  if (status === 403) return "record";
  if (note.eventName === undefined) return "skip";
  if (status === 429) return "aggregate";
  return note.aggregate === true ? "aggregate" : "record";
}

/** A stored record (one row of audit_events). */
export type StoredAuditRecord = StoredAuditRow;

export interface TrailContext {
  accountId: string;
  region: string;
}

/** The principal's account, from its ARN (`arn:aws:iam::<account>:...`), else the registry's. */
function accountOf(arn: string, fallback: string): string {
  return /^arn:aws:[a-z]+::(\d{12}):/.exec(arn)?.[1] ?? fallback;
}

/** A stored row in CloudTrail's record shape (eventVersion 1.08). */
export function cloudTrailRecord(row: StoredAuditRecord, trail: TrailContext): Record<string, unknown> {
  const source: string = row.source ?? "registry-jobs";
  const service = source === "registry-jobs";
  const userName = /:user\/(.+)$/.exec(row.actor)?.[1];
  const identity: Record<string, unknown> = service
    ? { type: "AWSService", invokedBy: row.actor }
    : {
        type: row.identityType ?? "Unknown",
        ...(row.actor.startsWith("arn:") ? { arn: row.actor, accountId: accountOf(row.actor, trail.accountId) } : {}),
        ...(userName === undefined ? {} : { userName }),
        ...(row.accessKeyId === null ? {} : { accessKeyId: row.accessKeyId }),
      };
  // Times a job kept in its detail (`pushedAt`, ...) are epoch ms: shown as ISO 8601, as eventTime.
  const detail = Object.fromEntries(
    Object.entries(row.detail).map(([key, value]) => [
      key,
      key.endsWith("At") && typeof value === "number" ? new Date(value).toISOString() : value,
    ]),
  );
  const additional = {
    ...detail,
    ...(row.digest === null ? {} : { imageDigest: row.digest }),
    ...(row.calls > 1 ? { calls: row.calls } : {}),
  };
  return {
    eventVersion: "1.08",
    userIdentity: identity,
    eventTime: new Date(row.at).toISOString().replace(/\.\d{3}Z$/, "Z"),
    eventSource: source,
    eventName: row.action,
    awsRegion: trail.region,
    sourceIPAddress: row.sourceIp ?? (service ? "registry internal" : null),
    userAgent: row.userAgent ?? (service ? "registry internal" : null),
    ...(row.errorCode === null ? {} : { errorCode: row.errorCode, errorMessage: row.errorMessage }),
    requestParameters: row.requestParameters,
    responseElements: null,
    ...(Object.keys(additional).length === 0 ? {} : { additionalEventData: additional }),
    requestID: row.requestId,
    eventID: row.eventId ?? `audit-${row.id}`,
    readOnly: row.readOnly ?? false,
    resources:
      row.repository === null
        ? []
        : [
            {
              ARN: `arn:aws:ecr:${trail.region}:${trail.accountId}:repository/${row.repository}`,
              accountId: trail.accountId,
              type: "AWS::ECR::Repository",
            },
          ],
    eventType: service ? "AwsServiceEvent" : "AwsApiCall",
    managementEvent: true,
    recipientAccountId: trail.accountId,
  };
}
