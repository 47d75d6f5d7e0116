import { AwsClient } from "aws4fetch";
import { describe, expect, it } from "vitest";
import { presignGet } from "./presign";

describe("presignGet", () => {
  // The example of AWS's "Authenticating Requests: Using Query Parameters (SigV4)" page.
  it("reproduces AWS's documented presigned URL", async () => {
    const config = {
      client: new AwsClient({
        accessKeyId: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        service: "s3",
        region: "us-east-1",
      }),
      bucketUrl: "https://examplebucket.s3.amazonaws.com",
      seconds: 86400,
    };
    const url = new URL(await presignGet(config, "test.txt", new Date("2013-05-24T00:00:00Z")));
    expect(url.origin + url.pathname).toBe("https://examplebucket.s3.amazonaws.com/test.txt");
    expect(url.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(url.searchParams.get("X-Amz-Credential")).toBe("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request");
    expect(url.searchParams.get("X-Amz-Date")).toBe("20130524T000000Z");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("86400");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
    expect(url.searchParams.get("X-Amz-Signature")).toBe(
      "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
    );
  });
});
