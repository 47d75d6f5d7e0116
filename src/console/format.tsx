/**
 * How the pages show sizes, times, digests and pages of a list. Without script there is no
 * browser time zone: times are shown in UTC, with the exact instant in `<time datetime>`.
 */
import type { PageCursor } from "../storage/image-listing";

const UNITS = ["kB", "MB", "GB", "TB"];

/** Decimal units, as `docker images` shows sizes. */
export function humanBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes;
  let unit = -1;
  // The unit is chosen on the rounded figure: 999,999 B is "1.0 MB", not "1000 kB".
  const shown = (n: number) => (n >= 99.95 ? n.toFixed(0) : n.toFixed(1));
  while (unit < UNITS.length - 1 && (value >= 1000 || Number(shown(value)) >= 1000)) {
    value /= 1000;
    unit += 1;
  }
  return `${shown(value)} ${UNITS[unit] ?? ""}`;
}

function grouped(bytes: number): string {
  return String(bytes).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A size, readable and exact. */
export function Bytes(props: { bytes: number | null }) {
  if (props.bytes === null) return <span class="muted">—</span>;
  if (props.bytes < 1000) return <>{humanBytes(props.bytes)}</>;
  return (
    <>
      {humanBytes(props.bytes)} <small class="muted">{`${grouped(props.bytes)} B`}</small>
    </>
  );
}

/** An instant (epoch ms) as `<time>`, or `never` when there is none. */
export function Time(props: { at: number | null; never?: string }) {
  if (props.at === null) return <span class="muted">{props.never ?? "—"}</span>;
  const iso = new Date(props.at).toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>;
}

/** `sha256:` and the first 12 hex digits: enough to tell images apart in a list. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(":");
  return colon < 0 ? digest.slice(0, 19) : digest.slice(0, colon + 13);
}

/** The `next` parameter of a list's next page: `<pushedAt>.<key>` (a key may hold dots). */
export function cursorParameter(cursor: PageCursor): string {
  return `${cursor.pushedAt}.${cursor.key}`;
}

export function parseCursor(value: string | undefined): PageCursor | null {
  const match = value === undefined ? null : /^(\d{1,15})\.(.{1,256})$/s.exec(value);
  return match === null ? null : { pushedAt: Number(match[1]), key: match[2] ?? "" };
}

/** The link to the next page of a list (same path and parameters, another `next`), if any. */
export function NextPage(props: { url: string; next: PageCursor | null; label?: string }) {
  const url = new URL(props.url);
  const first = url.searchParams.has("next");
  url.searchParams.delete("next");
  const firstHref = `${url.pathname}${url.search}`;
  if (props.next !== null) url.searchParams.set("next", cursorParameter(props.next));
  if (props.next === null && !first) return null;
  return (
    <nav class="pager" aria-label={props.label ?? "Pages"}>
      {first ? <a href={firstHref}>First page</a> : null}
      {props.next === null ? null : (
        <a href={`${url.pathname}${url.search}`} rel="next">
          Next page
        </a>
      )}
    </nav>
  );
}
