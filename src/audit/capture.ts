/**
 * The audit trail of requests: `withAuditTrail` gives each request an empty note (./note.ts),
 * which the surface that serves it fills (`noteAudit`: the action, the repository, the
 * parameters), and once the response is ready turns the note, the caller and the outcome into
 * a record in CloudTrail's shape. One statement after the response for a recorded call (at
 * most one D1 write per request), none for an aggregated read (./aggregates.ts).
 */
import { createMiddleware } from "hono/factory";
import type { AppContext, AppEnv } from "../app-env";
import type { Caller } from "../auth/caller";
import { RegistryError } from "../errors";
import { runAfterResponse } from "../images/pull-records";
import { appendAuditRecords, type AuditRow } from "../storage/audit-records";
import { countAggregated } from "./aggregates";
import type { AuditNote } from "./note";
import { disposition, presentedAccessKeyId, redactText, storedParameters } from "./record";

const MAX_USER_AGENT = 512;
const MAX_ERROR_MESSAGE = 1024;

/** Adds what the serving surface knows about the call to the request's audit note. */
export function noteAudit(c: AppContext, note: AuditNote): void {
  Object.assign(c.var.audit, note);
}

export const withAuditTrail = createMiddleware<AppEnv>(async (c, next) => {
  const note: AuditNote = {};
  c.set("audit", note);
  await next();
  // An empty header presents nothing (a client's first, challenged request).
  const authorization = c.req.header("Authorization")?.trim() || undefined;
  const kind = disposition(c.res.status, authorization !== undefined, note);
  if (kind === "skip") return;
  const row = auditRow(c, note, authorization);
  if (kind === "aggregate") countAggregated(c, row);
  else runAfterResponse(c, appendAuditRecords(c.get("db"), [row]), "audit record");
});

function identityOf(
  caller: Caller | undefined,
  accountId: string,
): { actor: string; identityType: string; accessKeyId?: string } {
  if (caller === undefined) return { actor: "unknown", identityType: "Unknown" };
  switch (caller.kind) {
    case "anonymous":
      return { actor: "anonymous", identityType: "Anonymous" };
    case "token":
      // A registry token names its user by ARN (src/auth/tokens.ts).
      return {
        actor: caller.subject.startsWith("arn:") ? caller.subject : `arn:aws:iam::${accountId}:user/${caller.subject}`,
        identityType: "IAMUser",
        // The key whose credentials the token was issued for.
        ...(caller.accessKeyId === undefined ? {} : { accessKeyId: caller.accessKeyId }),
      };
    case "principal":
      return {
        actor: caller.principal.arn,
        identityType: caller.principal.crossAccount ? "AWSAccount" : "IAMUser",
      };
  }
}

function auditRow(c: AppContext, note: AuditNote, authorization: string | undefined): AuditRow {
  const error = c.error instanceof RegistryError ? c.error : null;
  const failed = c.res.status >= 400;
  const identity = identityOf(c.get("caller"), c.var.settings.auth.accountId);
  const method = c.req.method;
  return {
    at: c.var.requestStartedAt,
    actor: identity.actor,
    action: note.eventName ?? `${method} ${new URL(c.req.url).pathname}`.slice(0, 200),
    repository: note.repository ?? null,
    digest: note.digest ?? null,
    detail: {},
    eventId: crypto.randomUUID(),
    requestId: c.var.requestId,
    source: note.source ?? sourceOfPath(new URL(c.req.url).pathname),
    identityType: identity.identityType,
    accessKeyId: presentedAccessKeyId(authorization) ?? identity.accessKeyId ?? note.accessKeyId ?? null,
    sourceIp: c.req.header("CF-Connecting-IP") ?? null,
    userAgent: nullOr(c.req.header("User-Agent")?.slice(0, MAX_USER_AGENT), redactText),
    errorCode: failed ? (error?.descriptor.code ?? `HTTP${c.res.status}`) : null,
    // Messages and user agents are the caller's text: one holding a token is not kept.
    errorMessage: failed ? nullOr(error?.message.slice(0, MAX_ERROR_MESSAGE), redactText) : null,
    requestParameters: storedParameters(note.requestParameters),
    readOnly: note.readOnly ?? (method === "GET" || method === "HEAD"),
    calls: 1,
  };
}

function nullOr<T, U>(value: T | undefined, map: (value: T) => U): U | null {
  return value === undefined ? null : map(value);
}

function sourceOfPath(path: string): AuditRow["source"] {
  if (path.startsWith("/admin")) return "registry-admin";
  if (path.startsWith("/token") || path.startsWith("/login")) return "registry-token";
  return "ecr.amazonaws.com";
}
