/**
 * Debian package version ordering, as dpkg orders them (`dpkg --compare-versions`): the
 * ordering Debian's and Ubuntu's advisories state their fixed versions in. A version is
 * `[epoch:]upstream[-revision]`; the epoch compares numerically, then upstream and revision
 * each compare by dpkg's `verrevcmp`. Neither strings nor semver order the distributions'
 * suffixes right: a string comparison puts `1.0~rc1` after `1.0`, semver takes
 * `1.2.3-1+deb12u1` for `1.2.3-1`.
 */

interface DebianVersion {
  /** Digits only; compared as a number. */
  epoch: string;
  upstream: string;
  /** "" when the version has none, which dpkg compares equal to "0". */
  revision: string;
}

const DIGITS = /^[0-9]+$/;
/** dpkg accepts these in the upstream part (a hyphen only when there is a revision). */
const UPSTREAM = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION = /^[A-Za-z0-9.+~]+$/;

function split(version: string): DebianVersion {
  const colon = version.indexOf(":");
  const epoch = colon === -1 ? "0" : version.slice(0, colon);
  const rest = colon === -1 ? version : version.slice(colon + 1);
  const hyphen = rest.lastIndexOf("-");
  return hyphen === -1
    ? { epoch, upstream: rest, revision: "" }
    : { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) };
}

/**
 * Whether dpkg would accept the version: a numeric epoch when there is one, an upstream part
 * that starts with a digit, and a non-empty revision after the last hyphen when there is one.
 */
export function isValidDebianVersion(version: string): boolean {
  if (version === "") return false;
  const { epoch, upstream, revision } = split(version);
  if (!DIGITS.test(epoch) || !UPSTREAM.test(upstream)) return false;
  return revision === "" ? !version.endsWith("-") : REVISION.test(revision);
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
const isLetter = (c: string): boolean => (c >= "A" && c <= "Z") || (c >= "a" && c <= "z");

/**
 * The weight dpkg gives a character in a non-digit run: `~` below the end of the string (so
 * `1.0~rc1` sorts before `1.0`), the end and digits next, then letters, then everything else.
 */
function order(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (c === "~") return -1;
  const code = c.charCodeAt(0);
  return isLetter(c) ? code : code + 256;
}

/** Two digit strings compared as numbers of any length. */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+/, "");
  const y = b.replace(/^0+/, "");
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** dpkg's verrevcmp: alternating non-digit runs (by `order`) and digit runs (numerically). */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const diff = order(a[i]) - order(b[j]);
      if (diff !== 0) return diff;
      i++;
      j++;
    }
    const startA = i;
    const startB = j;
    while (isDigit(a[i])) i++;
    while (isDigit(b[j])) j++;
    const diff = compareDigits(a.slice(startA, i), b.slice(startB, j));
    if (diff !== 0) return diff;
  }
  return 0;
}

/** dpkg's ordering of two versions: negative, zero or positive. Defined for any strings. */
export function compareDebianVersions(a: string, b: string): number {
  const x = split(a);
  const y = split(b);
  return Math.sign(
    compareDigits(x.epoch, y.epoch) || verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision),
  );
}
