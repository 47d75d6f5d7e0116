import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { parseAmzDate, parseAuthorization, verifySigV4, WebCryptoSha256 } from "./sigv4";
import { RegistryError } from "../errors";

const KEY = { accessKeyId: "AKIATESTTESTTESTTEST", secretAccessKey: "s3cr3t/s3cr3t+s3cr3t/s3cr3t+s3cr3t/s3cr3" };
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

async function signedRequest(
  body: string,
  options: { service?: string; at?: number; secret?: string; query?: Record<string, string> } = {},
) {
  const signer = new SignatureV4({
    service: options.service ?? "ecr",
    region: "eu-west-1",
    credentials: { accessKeyId: KEY.accessKeyId, secretAccessKey: options.secret ?? KEY.secretAccessKey },
    sha256: WebCryptoSha256,
  });
  const query = options.query ?? {};
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: "https:",
      hostname: "registry.example.com",
      path: "/",
      query,
      headers: {
        host: "registry.example.com",
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AmazonEC2ContainerRegistry_V20150921.ListImages",
      },
      body,
    },
    { signingDate: new Date(options.at ?? NOW) },
  );
  const url = new URL("https://registry.example.com/");
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return {
    method: "POST",
    url,
    headers: new Headers(signed.headers as Record<string, string>),
    body: new TextEncoder().encode(body),
  };
}

const findSecret = (id: string) => Promise.resolve(id === KEY.accessKeyId ? KEY.secretAccessKey : null);

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return (error as RegistryError).descriptor.code;
}

describe("parseAuthorization", () => {
  it("reads the credential scope, signed headers and signature", () => {
    const parsed = parseAuthorization(
      `AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=${"a".repeat(64)}`,
    );
    expect(parsed).toEqual({
      accessKeyId: "AKID",
      date: "20261123",
      region: "us-east-1",
      service: "ecr",
      signedHeaders: ["host", "x-amz-date"],
      signature: "a".repeat(64),
    });
  });

  it.each([
    ["Bearer abc", "IncompleteSignatureException"],
    ["AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/ecr/aws4_request", "IncompleteSignatureException"],
    [
      `AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/ecr, SignedHeaders=host, Signature=${"a".repeat(64)}`,
      "IncompleteSignatureException",
    ],
    [
      `AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/ecr/aws5_request, SignedHeaders=host, Signature=${"a".repeat(64)}`,
      "InvalidSignatureException",
    ],
    [
      `AWS4-HMAC-SHA256 Credential=AKID/2026-11-23/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=${"a".repeat(64)}`,
      "InvalidSignatureException",
    ],
    [
      "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=xyz",
      "InvalidSignatureException",
    ],
  ])("refuses %s", (header, code) => {
    expect(() => parseAuthorization(header)).toThrow(RegistryError);
    try {
      parseAuthorization(header);
    } catch (error) {
      expect((error as RegistryError).descriptor.code).toBe(code);
    }
  });

  it("answers MissingAuthenticationTokenException without a header", () => {
    expect(() => parseAuthorization(null)).toThrow("Missing Authentication Token");
  });
});

describe("parseAmzDate", () => {
  it("parses the basic ISO 8601 form and refuses others", () => {
    expect(parseAmzDate("20261123T120000Z")).toBe(NOW);
    expect(parseAmzDate("2026-11-23T12:00:00Z")).toBeNull();
    expect(parseAmzDate(null)).toBeNull();
  });
});

describe("verifySigV4", () => {
  it("accepts a request signed by the SDK's signer, with a query string", async () => {
    expect(
      await verifySigV4(
        await signedRequest('{"repositoryName":"a/b"}', { query: { b: "2", a: "x y" } }),
        findSecret,
        NOW,
      ),
    ).toBe(KEY.accessKeyId);
  });

  it("accepts query parameters named like Object.prototype members (constructor, __proto__, toString)", async () => {
    // JSON.parse makes `__proto__` an own property, as a URL's query makes it a parameter.
    const query = JSON.parse('{"__proto__":"p","constructor":"c","toString":"t","hasOwnProperty":"h"}') as Record<
      string,
      string
    >;
    const request = await signedRequest("{}", { query });
    expect([...request.url.searchParams.keys()].sort()).toEqual([
      "__proto__",
      "constructor",
      "hasOwnProperty",
      "toString",
    ]);
    expect(await verifySigV4(request, findSecret, NOW)).toBe(KEY.accessKeyId);
  });

  it("accepts up to 15 minutes of skew and refuses more", async () => {
    expect(await verifySigV4(await signedRequest("{}", { at: NOW - 15 * 60_000 }), findSecret, NOW)).toBe(
      KEY.accessKeyId,
    );
    expect(
      await refusal(verifySigV4(await signedRequest("{}", { at: NOW - 15 * 60_000 - 1000 }), findSecret, NOW)),
    ).toBe("InvalidSignatureException");
    expect(await refusal(verifySigV4(await signedRequest("{}", { at: NOW + 16 * 60_000 }), findSecret, NOW))).toBe(
      "InvalidSignatureException",
    );
  });

  it("refuses a changed body, a wrong secret, another service and an unknown key", async () => {
    const request = await signedRequest('{"a":1}');
    expect(await refusal(verifySigV4({ ...request, body: new TextEncoder().encode('{"a":2}') }, findSecret, NOW))).toBe(
      "InvalidSignatureException",
    );
    expect(await refusal(verifySigV4(await signedRequest("{}", { secret: "other" }), findSecret, NOW))).toBe(
      "InvalidSignatureException",
    );
    expect(await refusal(verifySigV4(await signedRequest("{}", { service: "s3" }), findSecret, NOW))).toBe(
      "InvalidSignatureException",
    );
    expect(await refusal(verifySigV4(await signedRequest("{}"), () => Promise.resolve(null), NOW))).toBe(
      "UnrecognizedClientException",
    );
  });

  it("refuses a changed query string and a changed signed header", async () => {
    const request = await signedRequest("{}", { query: { a: "1" } });
    const url = new URL(request.url);
    url.searchParams.set("a", "2");
    expect(await refusal(verifySigV4({ ...request, url }, findSecret, NOW))).toBe("InvalidSignatureException");
    const headers = new Headers(request.headers);
    headers.set("x-amz-target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository");
    expect(await refusal(verifySigV4({ ...request, headers }, findSecret, NOW))).toBe("InvalidSignatureException");
  });
});
