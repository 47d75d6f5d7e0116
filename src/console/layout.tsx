/**
 * The page frame of the gallery and the console: the site header (gallery, console, sign in
 * or out), the stylesheet, and the page. Hono's JSX escapes every value it renders, so
 * repository names, tags, annotations and catalog text (all attacker-controlled) show as text.
 */
import { html } from "hono/html";
import type { Child } from "hono/jsx";
import type { ConsoleSession } from "./session";
import { STYLESHEET_PATH } from "./static";

export interface PageProps {
  title: string;
  session: ConsoleSession | null;
  children?: Child;
}

/** A POST form with the session's CSRF token (every state-changing console action is one). */
export function CsrfForm(props: { session: ConsoleSession; action: string; children?: Child; class?: string }) {
  return (
    <form method="post" action={props.action} class={props.class}>
      <input type="hidden" name="_csrf" value={props.session.csrfToken} />
      {props.children}
    </form>
  );
}

export function Page(props: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Edge Registry`}</title>
        <link rel="stylesheet" href={STYLESHEET_PATH} />
      </head>
      <body>
        <header class="site">
          <a class="brand" href="/">
            Edge Registry
          </a>
          <nav aria-label="Main">
            <ul>
              <li>
                <a href="/">Gallery</a>
              </li>
              <li>
                <a href="/console">Console</a>
              </li>
            </ul>
          </nav>
          {props.session === null ? (
            <a href="/console/sign-in">Sign in</a>
          ) : (
            <CsrfForm session={props.session} action="/console/sign-out">
              <span class="muted">{props.session.principal.username} </span>
              <button type="submit" class="link">
                Sign out
              </button>
            </CsrfForm>
          )}
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A whole page (with its doctype), for `c.html(pageHtml(...), status)`. */
export function pageHtml(props: PageProps) {
  return html`<!doctype html>${(<Page {...props} />)}`;
}
