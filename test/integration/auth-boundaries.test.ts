import { describe, expect, it } from "vitest";
import {
  adminAuthorization,
  bearerAuthorization,
  call,
  expectError,
  fetchToken,
  pushImage,
  SERVICE,
} from "../support/registry";

describe("token boundaries", () => {
  it("does not accept registry tokens on the admin API, whatever their user may do", async () => {
    const token = await fetchToken(["repository:team-a/app:pull"], adminAuthorization());
    for (const [method, path] of [
      ["GET", "/admin/users"],
      ["POST", "/admin/users"],
      ["GET", "/admin/authorization-token"],
    ] as const) {
      const response = await call(method, path, {
        headers: { Authorization: bearerAuthorization(token) },
        body: method === "POST" ? '{"name":"x"}' : undefined,
      });
      await expectError(response, 401, "UNAUTHORIZED");
    }
  });

  it("lists the catalog only for tokens granted registry:catalog:*", async () => {
    await pushImage("team-a/app", "v1");
    const repositoryOnly = await fetchToken(["repository:team-a/app:pull"], adminAuthorization());
    const refused = await call("GET", "/v2/_catalog", {
      headers: { Authorization: bearerAuthorization(repositoryOnly) },
    });
    await expectError(refused, 401, "UNAUTHORIZED");
    expect(refused.headers.get("WWW-Authenticate")).toContain('scope="registry:catalog:*"');
    const catalog = await fetchToken(["registry:catalog:*"], adminAuthorization());
    const listed = await call("GET", "/v2/_catalog", { headers: { Authorization: bearerAuthorization(catalog) } });
    expect(await listed.json()).toEqual({ repositories: ["team-a/app"] });
  });

  it("answers an unsupported OAuth2 grant type with 400 unsupported_grant_type", async () => {
    const response = await call("POST", "/token", {
      anonymous: true,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        service: SERVICE,
        scope: "repository:a/b:pull",
      }).toString(),
    });
    await expectError(response, 400, "unsupported_grant_type");
  });

  it("reports the granted scope, not the asked one", async () => {
    const response = await call(
      "GET",
      `/token?service=${SERVICE}&scope=repository:../etc:pull&scope=repository:team-a/app:pull,push`,
      { anonymous: true },
    );
    const body = await response.json<{ scope: string }>();
    expect(body.scope).toBe("");
  });
});
