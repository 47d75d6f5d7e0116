/**
 * Console sessions inside the runtime: signing in with an access key sets an HttpOnly,
 * SameSite=Strict cookie; every page carries the CSP; a POST from another origin or without
 * the session's CSRF token is refused; signing out ends the session for good.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { allowPolicy, call, createUser, ORIGIN } from "../../support/registry";

async function signIn(accessKeyId: string, secret: string, headers: Record<string, string> = {}): Promise<Response> {
  return call("POST", "/console/sign-in", {
    anonymous: true,
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN, ...headers },
    body: new URLSearchParams({ accessKeyId, secretAccessKey: secret }).toString(),
  });
}

function cookieOf(response: Response): string {
  const set = response.headers.get("Set-Cookie") ?? "";
  return set.split(";")[0] ?? "";
}

async function csrfOf(cookie: string): Promise<string> {
  const page = await call("GET", "/console", { anonymous: true, headers: { Cookie: cookie } });
  expect(page.status).toBe(200);
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  expect(token).toBeDefined();
  return token!;
}

describe("console sessions", () => {
  it("sends the sign-in page to a visitor without a session, under the CSP", async () => {
    const home = await call("GET", "/console", { anonymous: true });
    expect(home.status).toBe(303);
    expect(home.headers.get("Location")).toBe("/console/sign-in?next=%2Fconsole");
    const page = await call("GET", "/console/sign-in", { anonymous: true });
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Security-Policy")).toMatch(/default-src 'none'/);
    expect(page.headers.get("Content-Security-Policy")).not.toMatch(/script-src/);
    const text = await page.text();
    expect(text).toMatch(/^<!doctype html>/);
    expect(text).not.toMatch(/<script/i);
  });

  it("signs in with an access key: an HttpOnly, SameSite=Strict cookie; a wrong secret is refused", async () => {
    const user = await createUser("console-user", allowPolicy(["ecr:DescribeRepositories"]));
    const wrong = await signIn(user.accessKeyId, `${user.secretAccessKey}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("Set-Cookie")).toBeNull();
    const response = await signIn(user.accessKeyId, user.secretAccessKey);
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe("/console");
    const setCookie = response.headers.get("Set-Cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Max-Age=3600/);
    const stored = await env.DB.prepare("SELECT id_hash FROM console_sessions WHERE username = 'console-user'").all<{
      id_hash: string;
    }>();
    expect(stored.results).toHaveLength(1);
    // D1 holds only the id's hash.
    expect(cookieOf(response)).not.toContain(stored.results[0]!.id_hash);
  });

  it("refuses a sign-in posted from another site", async () => {
    const response = await signIn(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY, {
      Origin: "https://evil.example",
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("Set-Cookie")).toBeNull();
  });

  it("refuses a sign-out without the CSRF token, and a real sign-out ends the session", async () => {
    const cookie = cookieOf(await signIn(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY));
    const token = await csrfOf(cookie);
    const form = { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie, Origin: ORIGIN };
    const forged = await call("POST", "/console/sign-out", { anonymous: true, headers: form, body: "_csrf=nope" });
    expect(forged.status).toBe(403);
    expect((await call("GET", "/console", { anonymous: true, headers: { Cookie: cookie } })).status).toBe(200);
    const out = await call("POST", "/console/sign-out", {
      anonymous: true,
      headers: form,
      body: new URLSearchParams({ _csrf: token }).toString(),
    });
    expect(out.status).toBe(303);
    // The same cookie, replayed after signing out, opens nothing.
    expect((await call("GET", "/console", { anonymous: true, headers: { Cookie: cookie } })).status).toBe(303);
  });
});
