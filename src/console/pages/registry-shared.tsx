/**
 * What the registry pages (scans, lifecycle, replication, pull-through, audit, users) share:
 * the gate every page passes (a session, then the one authorization decision asked with the
 * action the API would need), the check every form POST passes (this origin, the session's
 * CSRF token), reading GET filters, and small pieces of markup.
 */
import type { Child } from "hono/jsx";
import type { AppContext } from "../../app-env";
import { authConfig } from "../../auth/config";
import { ANY_RESOURCE, authorize, requestFacts, userResource } from "../../auth/decision";
import type { Principal } from "../../auth/caller";
import { isValidRepositoryName, NAME_MAX_LENGTH, parseDigest } from "../../oci/grammar";
import { findRepository } from "../../storage/repository-records";
import type { RepositoryRow } from "../../storage/schema";
import { allowedOn } from "../access";
import { forbiddenPage, requireSession } from "../auth-pages";
import { pageHtml } from "../layout";
import { csrfMatches, sameOrigin, type ConsoleSession } from "../session";

/** Longest free-text filter a page takes (the admin API's limit too). */
export const MAX_FILTER_LENGTH = 1024;

/** 400: the page's query does not say what to show. */
export function badRequestPage(c: AppContext, session: ConsoleSession, message: string): Response | Promise<Response> {
  return c.html(pageHtml({ title: "Bad request", session, children: <p class="error">{message}</p> }), 400);
}

/**
 * Whether the principal may perform a registry-wide action (`cloudtrail:LookupEvents`,
 * `iam:ListUsers`, `ecr:DescribeRegistry`, ...) on `*`, or an `iam:` action on one user, as
 * the admin API asks it (src/admin/authorize.ts).
 */
export async function allowedOnRegistry(
  c: AppContext,
  principal: Principal,
  action: string,
  user: string | null = null,
): Promise<boolean> {
  const resource = user === null ? ANY_RESOURCE : userResource(await authConfig(c.var.settings.auth), user);
  return authorize({ principal, action, resource, request: requestFacts(c.req.raw) }) === "Allow";
}

/** The signed-in session allowed `action` on `*` (or on `user`), or the response to send instead. */
export async function registryGate(
  c: AppContext,
  action: string,
  what: string,
  user: string | null = null,
): Promise<ConsoleSession | Response> {
  const session = await requireSession(c);
  if (session instanceof Response) return session;
  if (!(await allowedOnRegistry(c, session.principal, action, user))) return forbiddenPage(c, session, what);
  return session;
}

export interface RepositoryGate {
  session: ConsoleSession;
  name: string;
  /** The repository, or undefined when it does not exist (the page answers 404, after the 403 check). */
  row: RepositoryRow | undefined;
}

/**
 * The signed-in session allowed `action` on the repository named by `?repository=`, or the
 * response to send instead. Authorized before the repository is looked for, as the API does,
 * so a refused user cannot tell which repositories exist.
 */
export async function repositoryGate(c: AppContext, action: string, what: string): Promise<RepositoryGate | Response> {
  const session = await requireSession(c);
  if (session instanceof Response) return session;
  const name = c.req.query("repository") ?? "";
  if (name.length > NAME_MAX_LENGTH || !isValidRepositoryName(name))
    return badRequestPage(c, session, "Give a repository name (?repository=<name>).");
  const row = await findRepository(c.get("db"), name);
  if (!(await allowedOn(c, session.principal, action, name, row)))
    return forbiddenPage(c, session, `${what} of repository ${name}`);
  return { session, name, row };
}

/** The `?digest=` of the page, when it is a digest. */
export function queryDigest(c: AppContext): string | null {
  const digest = c.req.query("digest") ?? "";
  return parseDigest(digest) === null ? null : digest;
}

/** A free-text GET filter: trimmed, undefined when empty, cut to MAX_FILTER_LENGTH. */
export function queryText(c: AppContext, name: string): string | undefined {
  const value = (c.req.query(name) ?? "").trim();
  return value === "" ? undefined : value.slice(0, MAX_FILTER_LENGTH);
}

/** A 1-based page number from `?page=` (1 when absent or not a small whole number). */
export function queryPage(c: AppContext): number {
  const value = c.req.query("page") ?? "";
  return /^[1-9]\d{0,5}$/.test(value) ? Number(value) : 1;
}

/** A path with its query (empty values left out), for links that keep the page's filters. */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== "") params.set(key, String(value));
  const text = params.toString();
  return text === "" ? path : `${path}?${text}`;
}

/**
 * The form of a POST when it comes from this origin with the session's CSRF token, else null
 * (the caller refuses with 403 and changes nothing).
 */
export async function checkedForm(c: AppContext, session: ConsoleSession): Promise<Record<string, string> | null> {
  if (!sameOrigin(c)) return null;
  const form = await c.req.parseBody();
  // Text fields only: no console form uploads a file.
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(form)) if (typeof value === "string") fields[key] = value;
  return (await csrfMatches(session, fields._csrf)) ? fields : null;
}

/** A time (epoch ms) as text a person reads, with the machine form in `datetime`. */
export function When(props: { at: number | null | undefined }) {
  if (props.at === null || props.at === undefined) return <span class="muted">never</span>;
  const iso = new Date(props.at).toISOString();
  return <time datetime={iso}>{iso.replace("T", " ").replace(/\.\d{3}Z$/, " UTC")}</time>;
}

/** A link out (an advisory's page): only http(s), opened without telling it where from. */
export function ExternalLink(props: { href: string | null; children?: Child }) {
  if (props.href === null || !/^https?:\/\//i.test(props.href)) return <span class="muted">—</span>;
  return (
    <a href={props.href} rel="noopener noreferrer nofollow">
      {props.children}
    </a>
  );
}

/** A digest shown short, whole in its title. */
export function Digest(props: { digest: string }) {
  const hex = props.digest.slice(props.digest.indexOf(":") + 1);
  return (
    <code title={props.digest}>
      {props.digest.slice(0, props.digest.indexOf(":") + 1)}
      {hex.slice(0, 12)}
    </code>
  );
}

/** The image a page is about: its digest, repository and tags, then the page's own links. */
export function ImageLine(props: { name: string; digest: string; tags: readonly string[]; children?: Child }) {
  return (
    <p>
      Image <code>{props.digest}</code> in <a href={`/console/repositories/${props.name}`}>{props.name}</a>
      {props.tags.length === 0 ? " (untagged)" : ` (tags: ${props.tags.join(", ")})`}. {props.children}
    </p>
  );
}
