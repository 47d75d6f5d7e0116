/**
 * What the caches hold is answered only after the caller's permission on the repository asked
 * for, and only for that repository: a blob or manifest cached for one repository is never
 * served to a caller of another that does not link it, nor to a caller the policy refuses.
 */
import { describe, expect, it } from "vitest";
import {
  allowPolicy,
  bearerAuthorization,
  createUser,
  digestOf,
  fetchToken,
  pushImage,
  randomBytes,
  repositoryArnOf,
} from "../support/registry";
import { bindingsOf, callFrom } from "./support";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MANIFEST_ACCEPT = { Accept: "application/vnd.oci.image.manifest.v1+json" };

describe("cached content and authorization", () => {
  it("never serves one repository's cached blob or manifest to a caller of another, or to one refused", async () => {
    const layer = randomBytes(5000);
    const secret = await pushImage("team-a/app", "v1", { layers: [layer] });
    await pushImage("team-b/app", "v1");
    const digest = await digestOf(layer);
    // The admin's pulls fill every cache for team-a/app.
    for (const path of [`/v2/team-a/app/blobs/${digest}`, `/v2/team-a/app/manifests/${secret.digest}`]) {
      expect((await callFrom("singapore", "GET", path, { headers: MANIFEST_ACCEPT })).status).toBe(200);
    }
    await sleep(50);
    const cachedHit = await callFrom("singapore", "GET", `/v2/team-a/app/blobs/${digest}`);
    expect(bindingsOf(cachedHit)).toEqual([]);

    const user = await createUser(
      "team-b-puller",
      allowPolicy(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], [repositoryArnOf("team-b/app")]),
    );
    const token = await fetchToken(["repository:team-b/app:pull", "repository:team-a/app:pull"], user.authorization);
    const authorization = bearerAuthorization(token);

    // Refused on team-a, though everything it asks for is cached here.
    for (const path of [
      `/v2/team-a/app/blobs/${digest}`,
      `/v2/team-a/app/manifests/${secret.digest}`,
      `/v2/team-a/app/manifests/v1`,
    ]) {
      const refused = await callFrom("singapore", "GET", path, { authorization, headers: MANIFEST_ACCEPT });
      expect([401, 403], path).toContain(refused.status);
      const body = await refused.json<{ errors: { code: string }[] }>();
      expect(["UNAUTHORIZED", "DENIED"], path).toContain(body.errors[0]!.code);
      // Decided by the policy alone (D1's policy rows), before any content or link was read.
      expect(
        bindingsOf(refused).filter((binding) => binding !== "d1-primary"),
        path,
      ).toEqual([]);
    }
    // Allowed on team-b, which does not hold them: not found, after team-b's own link check.
    const blob = await callFrom("singapore", "GET", `/v2/team-b/app/blobs/${digest}`, { authorization });
    expect(blob.status).toBe(404);
    expect((await blob.json<{ errors: { code: string }[] }>()).errors[0]!.code).toBe("BLOB_UNKNOWN");
    expect(bindingsOf(blob)).toEqual(["d1-replica", "d1-primary"]);
    const manifest = await callFrom("singapore", "GET", `/v2/team-b/app/manifests/${secret.digest}`, {
      authorization,
      headers: MANIFEST_ACCEPT,
    });
    expect(manifest.status).toBe(404);
    expect((await manifest.json<{ errors: { code: string }[] }>()).errors[0]!.code).toBe("MANIFEST_UNKNOWN");
  });
});
