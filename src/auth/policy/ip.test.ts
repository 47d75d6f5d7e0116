import { describe, expect, it } from "vitest";
import { parseIpAddress, parseIpRange, rangeContains } from "./ip";

describe("parseIpAddress", () => {
  it.each<[string, string, 4 | 6 | null]>([
    ["IPv4", "10.1.2.3", 4],
    ["IPv4 zeros", "0.0.0.0", 4],
    ["IPv4 broadcast", "255.255.255.255", 4],
    ["IPv4 octet over 255", "10.1.2.256", null],
    ["IPv4 leading zero", "10.01.2.3", null],
    ["IPv4 three octets", "10.1.2", null],
    ["IPv4 with a prefix", "10.1.2.3/8", null],
    ["IPv6 full", "2001:0db8:0000:0000:0000:0000:0000:0001", 6],
    ["IPv6 compressed", "2001:db8::1", 6],
    ["IPv6 loopback", "::1", 6],
    ["IPv6 unspecified", "::", 6],
    ["IPv6 mapped IPv4", "::ffff:10.1.2.3", 6],
    ["IPv6 two compressions", "2001::db8::1", null],
    ["IPv6 group too long", "2001:db8::12345", null],
    ["IPv6 too many groups", "1:2:3:4:5:6:7:8:9", null],
    ["IPv6 too few groups", "1:2:3:4:5:6:7", null],
    ["IPv6 zone id", "fe80::1%eth0", null],
    ["empty", "", null],
    ["garbage", "localhost", null],
  ])("%s: %s", (_name, text, family) => {
    expect(parseIpAddress(text)?.family ?? null).toBe(family);
  });

  it("reads IPv6 groups and an embedded IPv4 tail", () => {
    expect(parseIpAddress("::ffff:1.2.3.4")?.value).toBe(0xffff01020304n);
    expect(parseIpAddress("2001:db8::1")?.value).toBe(0x20010db8000000000000000000000001n);
  });
});

describe("rangeContains", () => {
  it.each<[string, string, boolean]>([
    ["10.0.0.0/8", "10.255.1.2", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["192.168.1.0/24", "192.168.1.255", true],
    ["192.168.1.0/24", "192.168.2.0", false],
    ["192.168.1.7", "192.168.1.7", true],
    ["192.168.1.7/32", "192.168.1.8", false],
    ["0.0.0.0/0", "8.8.8.8", true],
    ["10.1.2.3/16", "10.1.200.1", true], // host bits are masked off
    ["2001:db8::/32", "2001:db8:ffff::1", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["::/0", "fe80::1", true],
    ["::/0", "10.0.0.1", false], // families never mix
    ["0.0.0.0/0", "::ffff:10.0.0.1", false],
    ["::ffff:0:0/96", "::ffff:10.0.0.1", true],
  ])("%s contains %s: %s", (range, address, expected) => {
    const parsedRange = parseIpRange(range);
    const parsedAddress = parseIpAddress(address);
    expect(parsedRange).not.toBeNull();
    expect(parsedAddress).not.toBeNull();
    if (parsedRange === null || parsedAddress === null) return;
    expect(rangeContains(parsedRange, parsedAddress)).toBe(expected);
  });

  it.each(["10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/8/8", "/8"])(
    "rejects the block %s",
    (text) => {
      expect(parseIpRange(text)).toBeNull();
    },
  );
});
