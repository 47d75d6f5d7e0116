/**
 * Throttling of failed logins, the pure part: what is throttled (an access key id, a client
 * address) and the counting window. Only failures are counted; once a key or an
 * address has failed `limit` times within a window, every login with it (right or wrong) is
 * refused with 429 until that window ends, so guessing runs at most `limit` tries per window
 * and a throttled login answers without any secret being checked. The window starts at the
 * first failure and is not extended by refused attempts, so an attacker can keep a key
 * throttled only by failing again in every window, never lock it out for good.
 * State lives in a Durable Object per throttled key (login-throttle-object.ts). The settings
 * (LOGIN_THROTTLE_* vars) are parsed in src/config/settings.ts.
 */
import type { ThrottleSettings } from "../config/settings";

/** Longest access key id kept in a throttle's name; longer ids are cut (real ones are 20 characters). */
const MAX_KEY_ID_LENGTH = 128;

/**
 * The address a client is counted under: IPv4 as is, IPv6 by its /64 (one subscriber usually
 * holds a whole /64, as Docker Hub's rate limits assume). Null for anything else.
 */
export function clientAddress(ip: string | null): string | null {
  if (ip === null) return null;
  const text = ip.trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return text;
  if (!text.includes(":") || !/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const groups = expandIpv6(text);
  return groups === null ? null : `${groups.slice(0, 4).join(":")}::/64`;
}

function expandIpv6(text: string): string[] | null {
  const halves = text.toLowerCase().split("::");
  if (halves.length > 2) return null;
  const parse = (part: string): string[] => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0] ?? "");
  const tail = halves.length === 2 ? parse(halves[1] ?? "") : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups; it lies past the /64 anyway.
  const width = (groups: string[]) => groups.reduce((sum, group) => sum + (group.includes(".") ? 2 : 1), 0);
  const missing = 8 - width(head) - width(tail);
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array.from({ length: halves.length === 2 ? missing : 0 }, () => "0"), ...tail];
  if (groups.slice(0, 4).some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return null;
  return groups.map((group) => (group.includes(".") ? group : group.replace(/^0+(?=.)/, "")));
}

/** One throttle: the Durable Object name it is counted in, and its limit. */
export interface ThrottleTarget {
  name: string;
  limit: number;
}

/**
 * What one login attempt is counted against: its access key id (none for user `AWS`, whose
 * password is a signed token that cannot be guessed, and which every `docker login -u AWS`
 * shares) and its client address (none when the runtime does not say). Throttles turned off
 * are left out.
 */
export function throttleTargets(
  settings: ThrottleSettings,
  accessKeyId: string | null,
  ip: string | null,
): ThrottleTarget[] {
  const targets: ThrottleTarget[] = [];
  if (accessKeyId !== null && accessKeyId !== "AWS" && settings.keyFailures > 0) {
    targets.push({ name: `key:${accessKeyId.slice(0, MAX_KEY_ID_LENGTH)}`, limit: settings.keyFailures });
  }
  const address = clientAddress(ip);
  if (address !== null && settings.ipFailures > 0) targets.push({ name: `ip:${address}`, limit: settings.ipFailures });
  return targets;
}

/** Failures counted in the window that began at the first of them. */
export interface FailureWindow {
  endsAt: number;
  failures: number;
}

/** Milliseconds until logins may be tried again, or 0 when they are not throttled. */
export function throttledFor(window: FailureWindow | undefined, limit: number, now: number): number {
  if (window === undefined || now >= window.endsAt || window.failures < limit) return 0;
  return window.endsAt - now;
}

/** The window after one more failure: a new one when there is none or it has ended. */
export function afterFailure(window: FailureWindow | undefined, windowMs: number, now: number): FailureWindow {
  if (window === undefined || now >= window.endsAt) return { endsAt: now + windowMs, failures: 1 };
  return { endsAt: window.endsAt, failures: window.failures + 1 };
}
