/**
 * The failed-login throttle seen by real clients against `npm start` (issue 12, item 13): the
 * AWS SDK names the refusal ThrottlingException (HTTP 429) and retries it as a throttling
 * error, and the token service answers 429 TOOMANYREQUESTS with Retry-After.
 *
 * The local front sets CF-Connecting-IP from the socket (as Cloudflare's edge does), so the
 * addresses these clients send are replaced by 127.0.0.1; the e2e registry runs with a high
 * per-address limit (support/registry-process.ts) so these deliberate failures do not
 * throttle other files' logins. Only the per-key limit is exercised here.
 */
import { DescribeRegistryCommand, ECRClient } from "@aws-sdk/client-ecr";
import { describe, expect, inject, it } from "vitest";
import { createUser, REGION, uniqueName, type Credentials } from "./support/ecr";

function clientFrom(ip: string, credentials: Credentials, maxAttempts: number): ECRClient {
  const client = new ECRClient({ endpoint: inject("registryUrl"), region: REGION, credentials, maxAttempts });
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string> };
      request.headers["cf-connecting-ip"] = ip;
      return next(args);
    },
    // After signing (the deserialize step wraps the send), as the edge adds it.
    { step: "deserialize", name: "clientAddress" },
  );
  return client;
}

async function failure(call: Promise<unknown>): Promise<{ name: string; status?: number; attempts?: number }> {
  try {
    await call;
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, attempts: e.$metadata?.attempts };
  }
  throw new Error("the call succeeded");
}

describe("failed-login throttle with real clients", () => {
  it("the AWS SDK gets ThrottlingException (429) for the right secret once a key has failed 10 times, and retries it", async () => {
    const key = await createUser(uniqueName("throttled"), {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "ecr:DescribeRegistry", Resource: "*" }],
    });
    expect((await clientFrom("198.51.100.101", key, 1).send(new DescribeRegistryCommand({}))).registryId).toMatch(
      /^\d{12}$/,
    );

    const wrong = clientFrom("198.51.100.101", { ...key, secretAccessKey: `${key.secretAccessKey.slice(0, -1)}!` }, 1);
    for (let i = 0; i < 10; i++)
      expect(await failure(wrong.send(new DescribeRegistryCommand({})))).toMatchObject({
        name: "InvalidSignatureException",
        status: 403,
      });

    // From another address, with the right secret: still refused, as a throttling error the SDK
    // retries (3 attempts here), unlike the signature errors above (1 attempt each).
    const refused = await failure(clientFrom("198.51.100.102", key, 3).send(new DescribeRegistryCommand({})));
    expect(refused).toMatchObject({ name: "ThrottlingException", status: 429, attempts: 3 });

    // The token service refuses the key the same way, saying when to come back.
    const token = await fetch(`${inject("registryUrl")}/token?service=edge-registry&scope=repository:team-a/app:pull`, {
      headers: {
        Authorization: `Basic ${Buffer.from(`${key.accessKeyId}:${key.secretAccessKey}`).toString("base64")}`,
        "CF-Connecting-IP": "198.51.100.103",
      },
    });
    expect(token.status).toBe(429);
    expect(Number(token.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(((await token.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("TOOMANYREQUESTS");
  });
});
