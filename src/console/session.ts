/**
 * Console sessions: signing in with an access key (or the bootstrap admin's) under the same
 * failed-login throttles as every login; a random session id in a cookie (HttpOnly,
 * SameSite=Strict, Secure and `__Host-` outside plain-HTTP localhost, one hour), of which D1
 * keeps only the SHA-256; each request reloads the user's principal (its policies as they are
 * now, and the key must still exist), so the console never grants more than the API would.
 * Every form carries the session's CSRF token, and a POST must come from this origin.
 */
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppContext } from "../app-env";
import { authConfig } from "../auth/config";
import type { Principal } from "../auth/caller";
import { admitLogin, loginThrottles, recordLoginFailure } from "../auth/login-guard";
import { ADMIN_USER, authenticateBasic, loadPrincipal } from "../auth/principals";
import { secretsEqual } from "../auth/secrets";
import { OciError } from "../errors";
import { createConsoleSession, deleteConsoleSession, findConsoleSession } from "../storage/console-records";
import { findAccessKey } from "../storage/identity-records";

/** How long a session lasts: short, as the console can change what the API can. */
export const SESSION_SECONDS = 60 * 60;

export interface ConsoleSession {
  principal: Principal;
  accessKeyId: string;
  csrfToken: string;
  idHash: string;
}

function plainLocalhost(c: AppContext): boolean {
  const url = new URL(c.req.url);
  return url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

/** `__Host-` (Secure, no Domain, Path=/) everywhere but plain-HTTP localhost, where Secure cannot be set. */
function cookieName(c: AppContext): string {
  return plainLocalhost(c) ? "registry-session" : "__Host-registry-session";
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

async function hashOf(id: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The signed-in session of this request, or null (no cookie, expired, signed out, key deleted). */
export async function currentSession(c: AppContext): Promise<ConsoleSession | null> {
  const id = getCookie(c, cookieName(c));
  if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  const db = c.get("db");
  const idHash = await hashOf(id);
  const session = await findConsoleSession(db, idHash, Date.now());
  if (session === null) return null;
  const config = await authConfig(c.var.settings.auth);
  const [principal, key] = await Promise.all([
    loadPrincipal(db, config, session.username),
    session.username === ADMIN_USER ? Promise.resolve(null) : findAccessKey(db, session.accessKeyId),
  ]);
  if (principal === null || (session.username !== ADMIN_USER && key?.user !== session.username)) return null;
  c.set("caller", { kind: "principal", principal });
  return { principal, accessKeyId: session.accessKeyId, csrfToken: session.csrfToken, idHash };
}

export type SignInResult = { ok: true } | { ok: false; reason: string };

/** Checks the key under the login throttles and starts a session (a cookie) when it is right. */
export async function signIn(c: AppContext, accessKeyId: string, secret: string): Promise<SignInResult> {
  const config = await authConfig(c.var.settings.auth);
  const db = c.get("db");
  const throttles = loginThrottles(c, accessKeyId);
  const admitted = admitLogin(c.env, throttles, OciError.TOOMANYREQUESTS);
  let principal: Principal | null;
  try {
    principal = await authenticateBasic(db, config, accessKeyId, secret, admitted);
  } catch {
    return { ok: false, reason: "Too many failed sign-ins for this key or from this address; try again later." };
  }
  if (principal === null || accessKeyId === "AWS") {
    await recordLoginFailure(c.env, throttles);
    return { ok: false, reason: "The access key or its secret is not right." };
  }
  const admin = config.admin !== null && (await secretsEqual(accessKeyId, config.admin.accessKeyId));
  const id = randomToken();
  const now = Date.now();
  await createConsoleSession(db, {
    idHash: await hashOf(id),
    username: admin ? ADMIN_USER : principal.username,
    accessKeyId,
    csrfToken: randomToken(),
    createdAt: now,
    expiresAt: now + SESSION_SECONDS * 1000,
  });
  setCookie(c, cookieName(c), id, {
    httpOnly: true,
    secure: !plainLocalhost(c),
    sameSite: "Strict",
    path: "/",
    maxAge: SESSION_SECONDS,
  });
  return { ok: true };
}

/** Ends the session: its row is deleted (a copied cookie opens nothing) and the cookie cleared. */
export async function signOut(c: AppContext, session: ConsoleSession): Promise<void> {
  await deleteConsoleSession(c.get("db"), session.idHash);
  deleteCookie(c, cookieName(c), { path: "/", secure: !plainLocalhost(c) });
}

/**
 * A form POST is this origin's: the browser's Origin (or Sec-Fetch-Site) says so. SameSite=Strict
 * already keeps the cookie off cross-site posts; this also covers the sign-in form, which has no
 * session yet.
 */
export function sameOrigin(c: AppContext): boolean {
  const site = c.req.header("Sec-Fetch-Site");
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  const origin = c.req.header("Origin");
  return origin === undefined || origin === new URL(c.req.url).origin;
}

/** The form's CSRF token is the session's (compared in constant time). */
export async function csrfMatches(session: ConsoleSession, token: unknown): Promise<boolean> {
  return typeof token === "string" && (await secretsEqual(token, session.csrfToken));
}
