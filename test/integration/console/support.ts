/**
 * Helpers of the console tests: sign in (a session cookie), read a page as that session, find
 * the session's CSRF token, and post a form as a browser on this origin would.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, ORIGIN } from "../../support/registry";

export const FORM = "application/x-www-form-urlencoded";

/** Signs in with the access key; the session cookie (`name=value`). */
export async function signInCookie(accessKeyId: string, secret: string): Promise<string> {
  const response = await call("POST", "/console/sign-in", {
    anonymous: true,
    headers: { "Content-Type": FORM, Origin: ORIGIN },
    body: new URLSearchParams({ accessKeyId, secretAccessKey: secret }).toString(),
  });
  expect(response.status, await response.clone().text()).toBe(303);
  const cookie = (response.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
  expect(cookie).toMatch(/=/);
  return cookie;
}

export function adminCookie(): Promise<string> {
  return signInCookie(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY);
}

export function page(cookie: string, path: string): Promise<Response> {
  return call("GET", path, { anonymous: true, headers: { Cookie: cookie } });
}

/** A page that must render (200): its text. Every page is under the CSP and carries no script. */
export async function pageText(cookie: string, path: string): Promise<string> {
  const response = await page(cookie, path);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expectPageSecurity(response, text);
  return text;
}

export function expectPageSecurity(response: Response, text: string): void {
  expect(response.headers.get("Content-Security-Policy")).toMatch(/default-src 'none'/);
  expect(response.headers.get("Content-Security-Policy")).not.toMatch(/script-src/);
  expect(text).toMatch(/^<!doctype html>/);
  expect(text).not.toMatch(/<script/i);
}

/** The session's CSRF token, read from a form of the console home. */
export async function csrfOf(cookie: string): Promise<string> {
  const home = await page(cookie, "/console");
  expect(home.status).toBe(200);
  const token = /name="_csrf" value="([^"]+)"/.exec(await home.text())?.[1];
  expect(token).toBeDefined();
  return token!;
}

/** Posts a form as this origin's page would (Origin and Sec-Fetch-Site unless overridden). */
export function postForm(
  cookie: string,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call("POST", path, {
    anonymous: true,
    headers: { "Content-Type": FORM, Cookie: cookie, Origin: ORIGIN, "Sec-Fetch-Site": "same-origin", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** An href as written in the HTML (`&amp;` between parameters) as a path to call. */
export function hrefPath(href: string): string {
  return href.replace(/&amp;/g, "&");
}
