import { describe, expect, it } from "vitest";
import { parseChallenge, readRateLimit, tokenLifetimeSeconds } from "./upstream-headers";

describe("parseChallenge", () => {
  it("reads Docker Hub's challenge", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      realm: "https://auth.docker.io/token",
      service: "registry.docker.io",
      scope: "repository:library/nginx:pull",
    });
  });

  it("accepts any case, spaces, bare values and escapes", () => {
    expect(parseChallenge('bearer  realm = "http://127.0.0.1:9/t" , service=reg.example ,scope="a\\"b"')).toEqual({
      scheme: "bearer",
      realm: "http://127.0.0.1:9/t",
      service: "reg.example",
      scope: 'a"b',
    });
  });

  it("has no service or scope when they are not sent", () => {
    expect(parseChallenge('Bearer realm="https://ghcr.io/token"')).toEqual({
      scheme: "bearer",
      realm: "https://ghcr.io/token",
      service: null,
      scope: null,
    });
  });

  it.each([
    ["no header", null, "unknown"],
    ["Basic", 'Basic realm="Registry Realm"', "basic"],
    ["a bearer challenge without realm", 'Bearer service="x"', "unknown"],
    ["a realm that is not an http(s) URL", 'Bearer realm="file:///etc/passwd"', "unknown"],
    ["another scheme", "Negotiate abc", "unknown"],
    ["garbage", "%%%", "unknown"],
  ])("%s -> %s", (_label, header, scheme) => {
    expect(parseChallenge(header).scheme).toBe(scheme);
  });
});

describe("readRateLimit", () => {
  it("reads Docker Hub's headers", () => {
    const headers = new Headers({
      "ratelimit-limit": "100;w=21600",
      "ratelimit-remaining": "76;w=21600",
      "docker-ratelimit-source": "192.0.2.1",
    });
    expect(readRateLimit(headers)).toEqual({ limit: "100;w=21600", remaining: "76;w=21600", source: "192.0.2.1" });
  });
  it("is null when the upstream does not limit", () => {
    expect(readRateLimit(new Headers({ "content-type": "application/json" }))).toBeNull();
  });
  it("keeps what is sent when only some headers are", () => {
    expect(readRateLimit(new Headers({ "ratelimit-remaining": "0;w=21600" }))).toEqual({
      limit: null,
      remaining: "0;w=21600",
      source: null,
    });
  });
});

describe("tokenLifetimeSeconds", () => {
  it.each<[unknown, number]>([
    [300, 300],
    [60, 60],
    [59, 60],
    [0, 60],
    [undefined, 60],
    ["300", 60],
    [Number.NaN, 60],
  ])("expires_in %s -> %s s", (given, expected) => {
    expect(tokenLifetimeSeconds(given)).toBe(expected);
  });
});
