/**
 * Admin request bodies are validated at the boundary, as ECR inputs are: every malformed body
 * (not JSON, not an object, a member missing or of the wrong type or length, not UTF-8, over
 * the size limit) is a 4xx naming what is wrong, and nothing is written.
 */
import { describe, expect, it } from "vitest";
import { MAX_ADMIN_BODY_BYTES } from "../../src/admin/input";
import { call, createUser, expectError } from "../support/registry";

const NOT_UTF8 = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);

function send(method: string, path: string, body: BodyInit): Promise<Response> {
  return call(method, path, { body, headers: { "Content-Type": "application/json" } });
}

async function userNames(): Promise<string[]> {
  const response = await call("GET", "/admin/users");
  expect(response.status).toBe(200);
  return (await response.json<{ users: string[] }>()).users;
}

describe("POST /admin/users", () => {
  it("refuses every malformed body with 400 INVALID_REQUEST naming the problem, and creates no user", async () => {
    const before = await userNames();
    for (const [body, message] of [
      ["{ nope", "the request body is not valid JSON"],
      [NOT_UTF8, "the request body is not valid JSON"],
      ['["alice"]', "the request body must be a JSON object"],
      ['"alice"', "the request body must be a JSON object"],
      ["null", "the request body must be a JSON object"],
      ["", "name is required"],
      ["{}", "name is required"],
      ['{"name": 5}', "name must be a string"],
      ['{"name": ["alice"]}', "name must be a string"],
      ['{"name": "bad name!"}', 'invalid user name "bad name!": 1-64 of A-Z a-z 0-9 + = , . @ _ -'],
      [
        JSON.stringify({ name: "a".repeat(65) }),
        `invalid user name "${"a".repeat(65)}": 1-64 of A-Z a-z 0-9 + = , . @ _ -`,
      ],
    ] as const) {
      const refused = await expectError(await send("POST", "/admin/users", body), 400, "INVALID_REQUEST");
      expect(refused.errors[0]?.message, String(body)).toBe(message);
    }
    expect(await userNames()).toEqual(before);
  });

  it("refuses a body over the limit with 413 TOO_LARGE", async () => {
    const body = JSON.stringify({ name: "big", padding: "x".repeat(MAX_ADMIN_BODY_BYTES) });
    await expectError(await send("POST", "/admin/users", body), 413, "TOO_LARGE");
    // Also when the body arrives without a declared length.
    const stream = new Blob([body]).stream();
    await expectError(
      await call("POST", "/admin/users", { body: stream, headers: { "Content-Type": "application/json" } }),
      413,
      "TOO_LARGE",
    );
    expect(await userNames()).not.toContain("big");
  });
});

describe("PUT /admin/users/<name>/policies/<policy>", () => {
  it("refuses a body that is not UTF-8, not a policy or too large, and attaches nothing", async () => {
    await createUser("bodies-policy");
    await expectError(await send("PUT", "/admin/users/bodies-policy/policies/p", NOT_UTF8), 400, "INVALID_REQUEST");
    await expectError(await send("PUT", "/admin/users/bodies-policy/policies/p", "{ nope"), 400, "INVALID_REQUEST");
    await expectError(await send("PUT", "/admin/users/bodies-policy/policies/p", ""), 400, "INVALID_REQUEST");
    await expectError(
      await send("PUT", "/admin/users/bodies-policy/policies/p", " ".repeat(MAX_ADMIN_BODY_BYTES + 1)),
      413,
      "TOO_LARGE",
    );
    const shown = await call("GET", "/admin/users/bodies-policy");
    expect((await shown.json<{ policies: unknown[] }>()).policies).toEqual([]);
  });
});

describe("PUT /admin/secrets/ecr-pullthroughcache/<name>", () => {
  it("refuses a malformed secret with 400 naming the member, and stores nothing", async () => {
    const path = "/admin/secrets/ecr-pullthroughcache/bodies";
    for (const [body, message] of [
      ["{ nope", "the request body is not valid JSON"],
      ["[]", "the request body must be a JSON object"],
      ["{}", "username is required"],
      ['{"username": "", "accessToken": "t"}', "username must be at least 1 characters"],
      ['{"username": "u"}', "accessToken is required"],
      ['{"username": "u", "accessToken": 3}', "accessToken must be a string"],
      [JSON.stringify({ username: "u", accessToken: "t".repeat(8193) }), "accessToken must be at most 8192 characters"],
    ] as const) {
      const refused = await expectError(await send("PUT", path, body), 400, "INVALID_REQUEST");
      expect(refused.errors[0]?.message, body).toBe(message);
    }
    await expectError(await call("DELETE", path), 404, "NOT_FOUND");
  });
});
