/**
 * SigV4 verification of the control plane, with requests signed by AWS's own signer
 * (@smithy/signature-v4) and then altered: each alteration must be refused with AWS's
 * exception, and the unaltered request must pass (so the refusals are not vacuous).
 */
import { describe, expect, it } from "vitest";
import { adminCredentials } from "./support/ecr";
import { send, signed } from "./support/signed-request";

const DESCRIBE = { action: "DescribeRegistry", body: "{}" };

describe("SigV4", () => {
  it("accepts a correctly signed request (the control case)", async () => {
    const result = await send(await signed(DESCRIBE));
    expect(result.status).toBe(200);
    expect(result.body.registryId).toMatch(/^\d{12}$/);
  });

  it("refuses a wrong secret", async () => {
    const { accessKeyId } = adminCredentials();
    const result = await send(
      await signed({
        ...DESCRIBE,
        credentials: { accessKeyId, secretAccessKey: "wrong-secret-wrong-secret-wrong-secret00" },
      }),
    );
    expect(result.status).toBe(403);
    expect(result.type).toBe("InvalidSignatureException");
  });

  it("refuses an unknown access key", async () => {
    const result = await send(
      await signed({
        ...DESCRIBE,
        credentials: { accessKeyId: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: "x".repeat(40) },
      }),
    );
    expect(result.status).toBe(403);
    expect(result.type).toBe("UnrecognizedClientException");
  });

  it("refuses a body changed after signing", async () => {
    const parts = await signed({ action: "DescribeRepositories", body: JSON.stringify({ maxResults: 5 }) });
    const result = await send({ ...parts, body: JSON.stringify({ maxResults: 6 }) });
    expect(result.status).toBe(403);
    expect(result.type).toBe("InvalidSignatureException");
  });

  it("refuses a signed header changed after signing", async () => {
    const parts = await signed(DESCRIBE);
    const result = await send({
      ...parts,
      headers: { ...parts.headers, "x-amz-target": "AmazonEC2ContainerRegistry_V20150921.GetRegistryPolicy" },
    });
    expect(result.status).toBe(403);
    expect(result.type).toBe("InvalidSignatureException");
  });

  it("refuses an X-Amz-Content-Sha256 that is not the body's hash", async () => {
    const parts = await signed({ ...DESCRIBE, extraHeaders: { "x-amz-content-sha256": "0".repeat(64) } });
    const result = await send(parts);
    expect(result.status).toBe(403);
    expect(result.type).toBe("InvalidSignatureException");
  });

  it("refuses a request signed 16 minutes ago or 16 minutes ahead, and accepts 14 minutes", async () => {
    for (const offsetMinutes of [-16, 16]) {
      const result = await send(
        await signed({ ...DESCRIBE, signingDate: new Date(Date.now() + offsetMinutes * 60_000) }),
      );
      expect(result.status).toBe(403);
      expect(result.type).toBe("InvalidSignatureException");
      expect(result.message).toMatch(/expired|15 minutes/i);
    }
    expect((await send(await signed({ ...DESCRIBE, signingDate: new Date(Date.now() - 14 * 60_000) }))).status).toBe(
      200,
    );
  });

  it("refuses a request signed for another service (a replay from s3)", async () => {
    const result = await send(await signed({ ...DESCRIBE, service: "s3" }));
    expect(result.status).toBe(403);
    expect(result.type).toBe("InvalidSignatureException");
  });

  it("refuses an unsigned request and a malformed Authorization header", async () => {
    const parts = await signed(DESCRIBE);
    const { authorization: _dropped, ...unsigned } = parts.headers;
    const missing = await send({ ...parts, headers: unsigned });
    expect(missing.status).toBe(403);
    expect(missing.type).toBe("MissingAuthenticationTokenException");
    const malformed = await send({
      ...parts,
      headers: { ...unsigned, authorization: "AWS4-HMAC-SHA256 Credential=only" },
    });
    expect(malformed.status).toBe(403);
    expect(malformed.type).toBe("IncompleteSignatureException");
  });
});

describe("AWS JSON 1.1 protocol errors", () => {
  it("answers UnknownOperationException to an unknown action", async () => {
    const result = await send(await signed({ action: "LaunchRockets", body: "{}" }));
    expect(result.status).toBe(400);
    expect(result.type).toBe("UnknownOperationException");
  });

  it("answers SerializationException to a body that is not JSON", async () => {
    const result = await send(await signed({ action: "DescribeRepositories", body: "{nope" }));
    expect(result.status).toBe(400);
    expect(result.type).toBe("SerializationException");
  });

  it("answers InvalidParameterException to a parameter of the wrong type", async () => {
    const result = await send(
      await signed({ action: "DescribeRepositories", body: JSON.stringify({ maxResults: "ten" }) }),
    );
    expect(result.status).toBe(400);
    expect(result.type).toBe("InvalidParameterException");
  });
});
