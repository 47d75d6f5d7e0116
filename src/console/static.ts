/**
 * The console's one stylesheet, served from the Worker (the CSP allows styles from this origin
 * only, and no inline style). Small, responsive (readable on a phone), system fonts, and colours
 * with WCAG AA contrast.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";

export const STYLESHEET_PATH = "/static/console.css";

const CSS = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #ffffff; --soft: #f6f8fa;
  --accent: #0a58ca; --bad: #a40e26; --warn: #7d4e00; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
header.site { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid var(--line); background: var(--soft); }
header.site .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
header.site nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
header.site form { margin: 0 0 0 auto; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); }
.scroll { overflow-x: auto; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; word-break: break-all; }
input, select, button, textarea { font: inherit; }
input[type=text], input[type=password], input[type=search], select { padding: .4rem .5rem; border: 1px solid var(--muted); border-radius: 4px; max-width: 100%; }
button { padding: .4rem .9rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
button.link { background: none; color: var(--accent); border: none; padding: 0; text-decoration: underline; }
label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
.muted { color: var(--muted); }
.error { color: var(--bad); font-weight: 600; }
.notice { padding: .75rem 1rem; border: 1px solid var(--line); border-radius: 6px; background: var(--soft); }
.badge { display: inline-block; padding: 0 .4rem; border-radius: 4px; border: 1px solid var(--line); font-size: .85em; }
.sev-CRITICAL, .sev-HIGH { color: var(--bad); font-weight: 600; }
.sev-MEDIUM { color: var(--warn); }
.counts { display: flex; flex-wrap: wrap; gap: .5rem 1rem; list-style: none; padding: 0; }
.pull { width: 100%; font-family: ui-monospace, Menlo, Consolas, monospace; }
.cards { list-style: none; padding: 0; display: grid; gap: .75rem; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); }
.cards li { border: 1px solid var(--line); border-radius: 6px; padding: .75rem; }
.prose { max-width: 48rem; }
.prose pre { background: var(--soft); padding: .75rem; overflow-x: auto; }
img.logo { width: 64px; height: 64px; object-fit: contain; }
nav.console-nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; list-style: none; margin: 0 0 1rem; padding: 0 0 .5rem; border-bottom: 1px solid var(--line); }
nav.console-nav a[aria-current=page] { font-weight: 700; color: var(--fg); }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; margin: 0 0 1rem; }
form.filters label { margin-top: 0; }
form.inline { display: inline; margin-left: .5rem; }
ul.keys { list-style: none; margin: 0 0 .5rem; padding: 0; }
.pager { display: flex; gap: 1rem; }
dl.new-key dt { font-weight: 600; margin-top: .5rem; }
dl.new-key dd { margin: 0; }
td details dl.record { margin: .25rem 0; font-size: .85rem; max-width: 40rem; }
td details dl.record dt { font-weight: 600; }
td details dl.record dd { margin: 0 0 .25rem 1rem; word-break: break-all; }
.health-failing, .health-rate-limited { color: var(--bad); font-weight: 600; }
.health-ok { color: var(--ok); }
ul.links, ul.badges { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; padding: 0; margin: .5rem 0; }
ul.badges { gap: .25rem .5rem; margin: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 1rem 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; min-width: 0; }
.repo-head { display: flex; gap: 1rem; align-items: flex-start; }
form.search { margin-bottom: 1rem; }
`.trim();

export const staticRoutes = new Hono<AppEnv>();

staticRoutes.get(STYLESHEET_PATH, (c) =>
  c.body(CSS, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=3600" }),
);
