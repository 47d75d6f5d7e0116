/**
 * IPv4 and IPv6 addresses and CIDR blocks for the IAM `IpAddress` / `NotIpAddress` condition
 * operators. Pure parsing and matching; an IPv4 address never matches an IPv6 block (and
 * `::ffff:a.b.c.d` is an IPv6 address, distinct from `a.b.c.d`).
 */

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** A CIDR block; a bare address is a block of one (/32 or /128). Host bits are masked off. */
export interface IpRange {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly prefix: number;
}

const DECIMAL = /^(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function bitsOf(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!DECIMAL.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

/** Parses colon-separated 16-bit groups; the last one may be a dotted IPv4 tail (two groups). */
function parseGroups(text: string, allowIpv4Tail: boolean): bigint[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: bigint[] = [];
  for (const [index, part] of parts.entries()) {
    if (allowIpv4Tail && index === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push(v4 >> 16n, v4 & 0xffffn);
    } else if (HEX_GROUP.test(part)) {
      groups.push(BigInt(`0x${part}`));
    } else {
      return null;
    }
  }
  return groups;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "", true) : [];
  if (head === null || tail === null) return null;
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 1 ? zeros !== 0 : zeros < 1) return null;
  const groups = [...head, ...new Array<bigint>(halves.length === 2 ? zeros : 0).fill(0n), ...tail];
  return groups.reduce((value, group) => (value << 16n) | group, 0n);
}

/** Parses a single IPv4 or IPv6 address (no brackets, zone ids or prefix). */
export function parseIpAddress(text: string): IpAddress | null {
  if (text.includes(":")) {
    const value = parseIpv6(text);
    return value === null ? null : { family: 6, value };
  }
  const value = parseIpv4(text);
  return value === null ? null : { family: 4, value };
}

/** Parses `address` or `address/prefix`. */
export function parseIpRange(text: string): IpRange | null {
  const slash = text.indexOf("/");
  const address = parseIpAddress(slash < 0 ? text : text.slice(0, slash));
  if (address === null) return null;
  const bits = bitsOf(address.family);
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1);
  if (!DECIMAL.test(prefixText) || Number(prefixText) > bits) return null;
  const prefix = Number(prefixText);
  return { family: address.family, network: maskTo(address.value, bits, prefix), prefix };
}

function maskTo(value: bigint, bits: number, prefix: number): bigint {
  const shift = BigInt(bits - prefix);
  return (value >> shift) << shift;
}

export function rangeContains(range: IpRange, address: IpAddress): boolean {
  if (range.family !== address.family) return false;
  return maskTo(address.value, bitsOf(range.family), range.prefix) === range.network;
}
