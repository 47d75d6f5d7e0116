/**
 * Alpine package version ordering, as apk-tools orders them (`apk_version_compare` in its
 * src/version.c): the ordering Alpine's advisories state their fixed versions in. A version is
 * `digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]`, compared token by token; `_alpha`,
 * `_beta`, `_pre` and `_rc` sort before the release they precede, `_cvs`, `_svn`, `_git`, `_hg`
 * and `_p` after it, and `-rN` is the package revision.
 */

/** Token kinds in the order apk-tools numbers them: the order decides which tokens may follow. */
const enum Token {
  InitialDigit,
  Digit,
  Letter,
  Suffix,
  SuffixNumber,
  CommitHash,
  Revision,
  End,
  Invalid,
}

/** Suffix weights; "none" (the release itself) sits between the pre- and post-release ones. */
const SUFFIXES: ReadonlyMap<string, number> = new Map([
  ["alpha", 1],
  ["beta", 2],
  ["pre", 3],
  ["rc", 4],
  ["cvs", 6],
  ["svn", 7],
  ["git", 8],
  ["hg", 9],
  ["p", 10],
]);
const SUFFIX_NONE = 5;

interface TokenState {
  token: Token;
  /** The token's text: digits, the letter, the suffix name or the hash. */
  value: string;
  suffix: number;
  /** Where the next token starts. */
  position: number;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/** The longest run from `from` whose characters pass `accept`. */
function span(version: string, from: number, accept: (c: string) => boolean): string {
  let end = from;
  while (end < version.length && accept(version.charAt(end))) end++;
  return version.slice(from, end);
}

function takeDigits(t: TokenState, version: string, token: Token): void {
  t.value = span(version, t.position, isDigit);
  t.position += t.value.length;
  t.token = t.value === "" ? Token.Invalid : token;
}

function first(version: string): TokenState {
  const t: TokenState = { token: Token.InitialDigit, value: "", suffix: 0, position: 0 };
  takeDigits(t, version, Token.InitialDigit);
  return t;
}

/** Advances to the next token; a token that may not follow the previous one is Invalid. */
function next(t: TokenState, version: string): void {
  if (t.position >= version.length) {
    t.token = Token.End;
    return;
  }
  const c = version.charAt(t.position);
  const previous = t.token;
  t.token = Token.Invalid;
  if (c >= "a" && c <= "z") {
    if (previous <= Token.Digit) {
      t.value = c;
      t.position++;
      t.token = Token.Letter;
    }
  } else if (c === ".") {
    if (previous <= Token.Digit) {
      t.position++;
      takeDigits(t, version, Token.Digit);
    }
  } else if (isDigit(c)) {
    // Digits after digits were taken with them: only a suffix's number starts here.
    if (previous === Token.Suffix) takeDigits(t, version, Token.SuffixNumber);
  } else if (c === "_") {
    if (previous <= Token.SuffixNumber) {
      t.value = span(version, t.position + 1, (x) => x >= "a" && x <= "z");
      t.position += 1 + t.value.length;
      t.suffix = SUFFIXES.get(t.value) ?? 0;
      if (t.suffix !== 0) t.token = Token.Suffix;
    }
  } else if (c === "~") {
    if (previous < Token.CommitHash) {
      t.value = span(version, t.position + 1, (x) => isDigit(x) || (x >= "a" && x <= "f"));
      t.position += 1 + t.value.length;
      if (t.value !== "") t.token = Token.CommitHash;
    }
  } else if (c === "-" && version.charAt(t.position + 1) === "r") {
    if (previous < Token.Revision) {
      t.position += 2;
      takeDigits(t, version, Token.Revision);
    }
  }
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Two digit strings compared as numbers of any length. */
function byNumber(a: string, b: string): number {
  const x = a.replace(/^0+/, "");
  const y = b.replace(/^0+/, "");
  return x.length !== y.length ? Math.sign(x.length - y.length) : byString(x, y);
}

/** Two tokens of the same kind. */
function compareTokens(a: TokenState, b: TokenState): number {
  switch (a.token) {
    case Token.Digit:
      // A component with a leading zero compares as a string (Gentoo's rule: 1.01 < 1.1).
      return a.value.startsWith("0") || b.value.startsWith("0")
        ? byString(a.value, b.value)
        : byNumber(a.value, b.value);
    case Token.InitialDigit:
    case Token.SuffixNumber:
    case Token.Revision:
      return byNumber(a.value, b.value);
    case Token.Suffix:
      return Math.sign(a.suffix - b.suffix);
    default:
      return byString(a.value, b.value);
  }
}

/** Whether apk-tools accepts the version (`apk_version_validate`). */
export function isValidAlpineVersion(version: string): boolean {
  const t = first(version);
  while (t.token < Token.End) next(t, version);
  return t.token === Token.End;
}

/** apk-tools' ordering of two versions: negative, zero or positive. Defined for any strings. */
export function compareAlpineVersions(a: string, b: string): number {
  const ta = first(a);
  const tb = first(b);
  while (ta.token === tb.token && ta.token < Token.End) {
    const result = compareTokens(ta, tb);
    if (result !== 0) return result;
    next(ta, a);
    next(tb, b);
  }
  if (ta.token === tb.token) return 0;
  // One version goes on where the other ends: it is the later one, unless it goes on with a
  // pre-release suffix (1.2_rc1 < 1.2), or the other ended on a later kind of token.
  if (ta.token === Token.Suffix && ta.suffix < SUFFIX_NONE) return -1;
  if (tb.token === Token.Suffix && tb.suffix < SUFFIX_NONE) return 1;
  return ta.token > tb.token ? -1 : 1;
}
