/**
 * What admin calls read from a request, validated at the boundary as ECR inputs are: a body
 * of at most MAX_ADMIN_BODY_BYTES (read with the request body timeout), a JSON object read
 * member by member with the surface-neutral getters (src/input.ts), or a policy document's
 * text. Every refusal is an admin error (INVALID_REQUEST naming the member, TOO_LARGE,
 * REQUEST_TIMEOUT) thrown before anything is written.
 */
import type { AppContext } from "../app-env";
import { noteAudit } from "../audit/capture";
import { readAtMost } from "../bytes";
import { AdminError, RegistryError } from "../errors";
import { Input, parseJsonObject } from "../input";
import { bodyTimeout, declaredBodyLength } from "../request-body";

/** Admin bodies are small documents: a policy (10,240 characters at most) is the largest. */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024;

export const adminError = {
  invalid: (message: string) => new RegistryError(AdminError.INVALID_REQUEST, message),
  notFound: (message: string) => new RegistryError(AdminError.NOT_FOUND, message),
  conflict: (message: string) => new RegistryError(AdminError.CONFLICT, message),
};

async function readBody(c: AppContext, limit = MAX_ADMIN_BODY_BYTES): Promise<Uint8Array> {
  const tooLarge = () => new RegistryError(AdminError.TOO_LARGE, `the request body exceeds ${limit} bytes`);
  declaredBodyLength(c.req.raw.headers, limit, { invalid: adminError.invalid, tooLarge });
  const timeout = bodyTimeout(
    c.var.settings,
    () => new RegistryError(AdminError.REQUEST_TIMEOUT, `the request body stopped arriving for ${timeout.ms / 1000} s`),
  );
  return readAtMost(c.req.raw.body, limit, tooLarge, timeout);
}

/** The body as one JSON object (an empty body is `{}`), read member by member; `limit` for larger documents. */
export async function readJsonInput(c: AppContext, limit = MAX_ADMIN_BODY_BYTES): Promise<Input> {
  const body = parseJsonObject(await readBody(c, limit), adminError.invalid);
  // Recorded with secrets redacted (src/audit/record.ts), like every admin call's parameters.
  noteAudit(c, { requestParameters: { ...c.var.audit.requestParameters, body } });
  return new Input(body, adminError.invalid);
}

/**
 * A URL this registry calls out to (a replication destination, a webhook): https, or http only
 * for a loopback address (tests and local runs), with no credentials in it.
 */
export function requireOutboundUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw adminError.invalid(`endpoint "${text}" is not a URL`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (!(url.protocol === "https:" || (url.protocol === "http:" && loopback)))
    throw adminError.invalid("endpoint must be https (http only for a loopback address)");
  if (url.username !== "" || url.password !== "") throw adminError.invalid("endpoint must not carry credentials");
  return url;
}

/** The body as UTF-8 text (a policy document, checked by its parser). */
export async function readText(c: AppContext): Promise<string> {
  const body = await readBody(c);
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
    noteAudit(c, { requestParameters: { ...c.var.audit.requestParameters, document: text } });
    return text;
  } catch {
    throw adminError.invalid("the request body is not UTF-8 text");
  }
}
