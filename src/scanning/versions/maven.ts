/**
 * Maven version ordering, as Maven 3.9's ComparableVersion orders them: the ordering of Maven
 * artifacts in OSV (the GitHub advisories for Java libraries). A version splits into numbers
 * and qualifiers at `.`, `-` and every letter/digit transition; a `-` (or a qualifier after a
 * `.`) opens a nested list that sorts below a plain number. Known qualifiers order as
 * alpha < beta < milestone < rc = cr < snapshot < "" = final = ga = release < sp, unknown ones
 * after them alphabetically; trailing zeros and release qualifiers drop out (`1.0.0` = `1`).
 */

type Item =
  /** Digits without leading zeros ("0" for zero), compared as a number of any size. */
  | { kind: "number"; value: string }
  /** A qualifier, lowercased, with its aliases resolved. */
  | { kind: "qualifier"; value: string }
  | { kind: "list"; items: Item[] };

const QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE = String(QUALIFIERS.indexOf(""));
const ALIASES: ReadonlyMap<string, string> = new Map([
  ["ga", ""],
  ["final", ""],
  ["release", ""],
  ["cr", "rc"],
]);
/** One-letter qualifiers directly followed by a number: `1.0a1` is `1.0-alpha-1`. */
const SHORT: ReadonlyMap<string, string> = new Map([
  ["a", "alpha"],
  ["b", "beta"],
  ["m", "milestone"],
]);

const isDigit = (c: string): boolean => c >= "0" && c <= "9";
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function numberItem(digits: string): Item {
  return { kind: "number", value: digits.replace(/^0+(?=.)/, "") };
}

function qualifierItem(text: string, followedByDigit: boolean): Item {
  const value = (followedByDigit ? SHORT.get(text) : undefined) ?? text;
  return { kind: "qualifier", value: ALIASES.get(value) ?? value };
}

/** Known qualifiers by rank, unknown ones after them in lexical order (Maven's own trick). */
function rankOf(qualifier: string): string {
  const index = QUALIFIERS.indexOf(qualifier);
  return index === -1 ? `${QUALIFIERS.length}-${qualifier}` : String(index);
}

function isNull(item: Item): boolean {
  if (item.kind === "number") return item.value === "0";
  if (item.kind === "qualifier") return rankOf(item.value) === RELEASE;
  return item.items.length === 0;
}

/** Drops trailing zeros and release qualifiers, looking past nested lists. */
function normalize(items: Item[]): void {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item === undefined) continue;
    if (isNull(item)) items.splice(i, 1);
    else if (item.kind !== "list") break;
  }
}

function parse(version: string): Item[] {
  const text = version.toLowerCase();
  const root: Item[] = [];
  const lists = [root];
  let list = root;
  const open = (): void => {
    const items: Item[] = [];
    list.push({ kind: "list", items });
    lists.push(items);
    list = items;
  };
  let inDigits = false;
  let start = 0;
  const piece = (end: number): Item => {
    const part = text.slice(start, end);
    return inDigits ? numberItem(part) : qualifierItem(part, false);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === "." || c === "-") {
      list.push(i === start ? numberItem("0") : piece(i));
      start = i + 1;
      if (c === "-") open();
    } else if (isDigit(c)) {
      if (!inDigits && i > start) {
        // A qualifier after a dot sorts as if after a hyphen: 1.0.0.x1 < 1.0.0-x2.
        if (list.length > 0) open();
        list.push(qualifierItem(text.slice(start, i), true));
        start = i;
        open();
      }
      inDigits = true;
    } else {
      if (inDigits && i > start) {
        list.push(piece(i));
        start = i;
        open();
      }
      inDigits = false;
    }
  }
  if (text.length > start) {
    if (!inDigits && list.length > 0) open();
    list.push(piece(text.length));
  }
  for (let i = lists.length - 1; i >= 0; i--) normalize(lists[i] ?? []);
  return root;
}

/** Compares an item with another or with nothing (the end of the shorter list). */
function compareItem(a: Item, b: Item | null): number {
  switch (a.kind) {
    case "number":
      if (b === null) return a.value === "0" ? 0 : 1;
      if (b.kind !== "number") return 1;
      return a.value.length !== b.value.length
        ? Math.sign(a.value.length - b.value.length)
        : byString(a.value, b.value);
    case "qualifier":
      if (b === null) return byString(rankOf(a.value), RELEASE);
      if (b.kind !== "qualifier") return -1;
      return byString(rankOf(a.value), rankOf(b.value));
    case "list":
      if (b === null) {
        for (const item of a.items) {
          const result = compareItem(item, null);
          if (result !== 0) return result;
        }
        return 0;
      }
      if (b.kind === "number") return -1;
      if (b.kind === "qualifier") return 1;
      return compareLists(a.items, b.items);
  }
}

function compareLists(a: Item[], b: Item[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const left = a[i];
    const right = b[i];
    const result = left ? compareItem(left, right ?? null) : right ? -compareItem(right, null) : 0;
    if (result !== 0) return result;
  }
  return 0;
}

/**
 * Whether the version is usable: Maven orders any string, so only the empty string and
 * strings with whitespace or control characters (never a real version) are refused.
 */
export function isValidMavenVersion(version: string): boolean {
  return /^[^\s\p{Cc}]+$/u.test(version);
}

/** Maven's ordering of two versions: negative, zero or positive. Defined for any strings. */
export function compareMavenVersions(a: string, b: string): number {
  return Math.sign(compareLists(parse(a), parse(b)));
}
