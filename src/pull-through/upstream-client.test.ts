import { describe, expect, it } from "vitest";
import { OciError } from "../errors";
import { clientErrorFor } from "./targets";
import { failureOfAnswer, UpstreamFailure } from "./upstream-client";
import { RegistryError } from "../errors";

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === null ? null : JSON.stringify(body), { status, headers });
}

const notFound = new RegistryError(OciError.MANIFEST_UNKNOWN, "not here");

describe("failureOfAnswer and clientErrorFor", () => {
  it("passes on the upstream's 404 code: NAME_UNKNOWN stays NAME_UNKNOWN, others are the resource's own 404", async () => {
    const name = await failureOfAnswer(
      answer(404, { errors: [{ code: "NAME_UNKNOWN", message: "repository name not known to registry" }] }),
      "GET x",
    );
    expect(name.kind).toBe("not-found");
    expect(clientErrorFor(name, notFound).descriptor).toBe(OciError.NAME_UNKNOWN);
    const manifest = await failureOfAnswer(answer(404, { errors: [{ code: "MANIFEST_UNKNOWN" }] }), "GET x");
    expect(clientErrorFor(manifest, notFound)).toBe(notFound);
    const bare = await failureOfAnswer(answer(404, null), "GET x");
    expect(clientErrorFor(bare, notFound)).toBe(notFound);
  });

  it("takes Docker Hub's 401 to a fresh token (a missing or private repository) as NAME_UNKNOWN", async () => {
    const hub = await failureOfAnswer(
      answer(
        401,
        { errors: [{ code: "UNAUTHORIZED" }] },
        {
          "WWW-Authenticate":
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",error="insufficient_scope"',
        },
      ),
      "GET library/nope",
    );
    expect(hub.kind).toBe("not-found");
    expect(clientErrorFor(hub, notFound).descriptor).toBe(OciError.NAME_UNKNOWN);
    expect(clientErrorFor(hub, notFound).status).toBe(404);
  });

  it("takes a Basic upstream's 401 and any 403 as refused credentials: 502", async () => {
    for (const refused of [
      answer(401, null, { "WWW-Authenticate": 'Basic realm="x"' }),
      answer(403, { errors: [{ code: "DENIED" }] }),
    ]) {
      const failure = await failureOfAnswer(refused, "GET x");
      expect(failure.kind).toBe("denied");
      expect(clientErrorFor(failure, notFound).status).toBe(502);
    }
  });

  it("answers 429 TOOMANYREQUESTS for the upstream's 429 and 502 UNAVAILABLE for its faults", async () => {
    const limited = clientErrorFor(
      await failureOfAnswer(answer(429, { errors: [{ code: "TOOMANYREQUESTS" }] }), "GET x"),
      notFound,
    );
    expect([limited.descriptor.code, limited.status]).toEqual(["TOOMANYREQUESTS", 429]);
    const broken = clientErrorFor(await failureOfAnswer(answer(503, "<html>"), "GET x"), notFound);
    expect([broken.descriptor.code, broken.status]).toEqual(["UNAVAILABLE", 502]);
    expect(broken.message).toContain("503");
    const unreachable = clientErrorFor(new UpstreamFailure("unavailable", 0, "could not be reached"), notFound);
    expect(unreachable.status).toBe(502);
  });

  it("ignores an error code that is not an OCI code", async () => {
    const failure = await failureOfAnswer(answer(404, { errors: [{ code: "<script>" }] }), "GET x");
    expect(failure.upstreamCode).toBeNull();
  });
});
