/**
 * Signing in and out of the console, and its home page (the repositories the user may
 * describe). Pages for what is refused (403) and missing (404) are here too.
 */
import { Hono } from "hono";
import type { AppContext, AppEnv } from "../app-env";
import { noteAudit } from "../audit/capture";
import { keptAccessKeyId } from "../audit/record";
import { repositoriesAllowed } from "./access";
import { pageHtml } from "./layout";
import { ConsoleNav } from "./pages/console-nav";
import { csrfMatches, currentSession, sameOrigin, signIn, signOut, type ConsoleSession } from "./session";

export const authPages = new Hono<AppEnv>();

/** 403: signed in, but the policies do not allow it (the API would answer AccessDenied too). */
export function forbiddenPage(
  c: AppContext,
  session: ConsoleSession | null,
  what: string,
): Response | Promise<Response> {
  return c.html(
    pageHtml({
      title: "Not allowed",
      session,
      children: <p class="error">{`Your policies do not allow you to ${what}.`}</p>,
    }),
    403,
  );
}

export function notFoundPage(
  c: AppContext,
  session: ConsoleSession | null,
  what: string,
): Response | Promise<Response> {
  return c.html(pageHtml({ title: "Not found", session, children: <p>{`${what} was not found.`}</p> }), 404);
}

/** The signed-in session, or a redirect to sign in (back to this page after). */
export async function requireSession(c: AppContext): Promise<ConsoleSession | Response> {
  const session = await currentSession(c);
  if (session !== null) return session;
  // Back to this page after signing in; a form's POST cannot be repeated by a GET: the home.
  const url = new URL(c.req.url);
  const next = c.req.method === "GET" ? `${url.pathname}${url.search}` : "/console";
  return c.redirect(`/console/sign-in?next=${encodeURIComponent(next)}`, 303);
}

/** A local path to return to after signing in (never another site). */
function localNext(next: string | undefined): string {
  return next !== undefined && /^\/console([/?][^/\\].*)?$/.test(next) ? next : "/console";
}

function signInPage(c: AppContext, next: string, error: string | null, status: 200 | 401 | 403 = 200) {
  return c.html(
    pageHtml({
      title: "Sign in",
      session: null,
      children: (
        <form method="post" action={`/console/sign-in?next=${encodeURIComponent(next)}`}>
          {error === null ? null : (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <label for="accessKeyId">Access key ID</label>
          <input type="text" id="accessKeyId" name="accessKeyId" autocomplete="username" required />
          <label for="secretAccessKey">Secret access key</label>
          <input type="password" id="secretAccessKey" name="secretAccessKey" autocomplete="current-password" required />
          <p>
            <button type="submit">Sign in</button>
          </p>
        </form>
      ),
    }),
    status,
  );
}

authPages.get("/console/sign-in", (c) => signInPage(c, localNext(c.req.query("next")), null));

authPages.post("/console/sign-in", async (c) => {
  const next = localNext(c.req.query("next"));
  if (!sameOrigin(c)) return signInPage(c, next, "This form must be sent from this site.", 403);
  const form = await c.req.parseBody();
  const accessKeyId = typeof form.accessKeyId === "string" ? form.accessKeyId.trim() : "";
  const secret = typeof form.secretAccessKey === "string" ? form.secretAccessKey : "";
  noteAudit(c, {
    eventName: "ConsoleLogin",
    source: "registry-admin",
    credentialsPresented: true,
    ...(keptAccessKeyId(accessKeyId) === null ? {} : { accessKeyId }),
  });
  if (accessKeyId === "" || secret === "") return signInPage(c, next, "Give an access key ID and its secret.", 401);
  const result = await signIn(c, accessKeyId, secret);
  if (!result.ok) return signInPage(c, next, result.reason, 401);
  return c.redirect(next, 303);
});

authPages.post("/console/sign-out", async (c) => {
  const session = await currentSession(c);
  if (session === null) return c.redirect("/", 303);
  const form = await c.req.parseBody();
  if (!sameOrigin(c) || !(await csrfMatches(session, form._csrf)))
    return forbiddenPage(c, session, "sign out from another site");
  noteAudit(c, { eventName: "ConsoleLogout", source: "registry-admin" });
  await signOut(c, session);
  return c.redirect("/", 303);
});

authPages.get("/console", async (c) => {
  const session = await requireSession(c);
  if (session instanceof Response) return session;
  const repositories = await repositoriesAllowed(c, session.principal, "ecr:DescribeRepositories");
  return c.html(
    pageHtml({
      title: "Repositories",
      session,
      children: (
        <>
          <ConsoleNav current="/console" />
          {repositories.length === 0 ? (
            <p>No repository you may describe.</p>
          ) : (
            <ul>
              {repositories.map((repository) => (
                <li>
                  <a href={`/console/repositories/${repository.name}`}>{repository.name}</a>
                </li>
              ))}
            </ul>
          )}
        </>
      ),
    }),
  );
});
