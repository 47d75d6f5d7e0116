/**
 * Layer download URLs (GetDownloadUrlForLayer without R2's S3 API): a blob GET carrying
 * `?X-Registry-Token=` is authorized by that token alone, and only when it verifies, has not
 * expired, and names this repository and this digest; the blob link check still runs.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authConfig } from "../../src/auth/config";
import { settingsOf } from "../../src/config/load";
import { DOWNLOAD_TOKEN_PARAM, mintDownloadUrl } from "../../src/auth/download-urls";
import { issueDownloadToken, issueRegistryToken } from "../../src/auth/tokens";
import {
  bearerAuthorization,
  call,
  digestOf,
  expectError,
  ORIGIN,
  pushBlob,
  randomBytes,
  userArnOf,
} from "../support/registry";

const REPO = "dl/app";
const OTHER = "dl/other";
const SUBJECT = { arn: userArnOf("admin"), userId: "admin" };

/** A GET of `/v2/<name>/blobs/<digest>` with the token in the query and no Authorization. */
function getWithToken(name: string, digest: string, token: string, method = "GET"): Promise<Response> {
  return call(method, `/v2/${name}/blobs/${digest}?${DOWNLOAD_TOKEN_PARAM}=${encodeURIComponent(token)}`, {
    anonymous: true,
  });
}

async function downloadToken(name: string, digest: string, seconds?: number): Promise<string> {
  return (
    await issueDownloadToken(await authConfig(settingsOf(env).auth), SUBJECT, { repository: name, digest }, seconds)
  ).token;
}

describe("layer download URLs", () => {
  it("serve the blob they name to a request without credentials", async () => {
    const bytes = randomBytes(2000);
    const digest = await pushBlob(REPO, bytes);
    const url = new URL(
      await mintDownloadUrl(ORIGIN, await authConfig(settingsOf(env).auth), SUBJECT, { repository: REPO, digest }),
    );
    expect(url.pathname).toBe(`/v2/${REPO}/blobs/${digest}`);
    const response = await call("GET", `${url.pathname}${url.search}`, { anonymous: true });
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
  });

  it("are refused for another repository, another digest, once expired, or tampered with", async () => {
    const bytes = randomBytes(100);
    const digest = await pushBlob(REPO, bytes);
    await pushBlob(OTHER, bytes);
    const otherDigest = await pushBlob(REPO, randomBytes(10));
    const token = await downloadToken(REPO, digest);
    await expectError(await getWithToken(OTHER, digest, token), 403, "DENIED");
    await expectError(await getWithToken(REPO, otherDigest, token), 403, "DENIED");
    await expectError(await getWithToken(REPO, digest, await downloadToken(REPO, digest, -5)), 403, "DENIED");
    const [header, claims, signature] = token.split(".") as [string, string, string];
    const flipped = `${signature.slice(0, 5)}${signature[5] === "A" ? "B" : "A"}${signature.slice(6)}`;
    await expectError(await getWithToken(REPO, digest, `${header}.${claims}.${flipped}`), 403, "DENIED");
    await expectError(await getWithToken(REPO, digest, "not-a-token"), 403, "DENIED");
  });

  it("do not accept a registry token, and their token is not a bearer token", async () => {
    const digest = await pushBlob(REPO, randomBytes(50));
    const config = await authConfig(settingsOf(env).auth);
    const registryToken = (
      await issueRegistryToken(config, {
        sub: SUBJECT.arn,
        uid: SUBJECT.userId,
        access: [{ type: "repository", name: REPO, actions: ["pull"] }],
      })
    ).token;
    // The same registry token works as a bearer token, so only its use is refused here.
    expect(
      (
        await call("GET", `/v2/${REPO}/blobs/${digest}`, {
          headers: { Authorization: bearerAuthorization(registryToken) },
        })
      ).status,
    ).toBe(200);
    await expectError(await getWithToken(REPO, digest, registryToken), 403, "DENIED");
    const token = await downloadToken(REPO, digest);
    await expectError(
      await call("GET", `/v2/${REPO}/blobs/${digest}`, { headers: { Authorization: bearerAuthorization(token) } }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("authorize nothing but the blob GET", async () => {
    const digest = await pushBlob(REPO, randomBytes(50));
    const token = await downloadToken(REPO, digest);
    expect((await getWithToken(REPO, digest, token, "HEAD")).status).toBe(401);
    await expectError(await getWithToken(REPO, digest, token, "DELETE"), 401, "UNAUTHORIZED");
    const manifest = await call("GET", `/v2/${REPO}/manifests/latest?${DOWNLOAD_TOKEN_PARAM}=${token}`, {
      anonymous: true,
    });
    await expectError(manifest, 401, "UNAUTHORIZED");
    await expectError(await call("GET", `/v2/${REPO}/blobs/${digest}`, { anonymous: true }), 401, "UNAUTHORIZED");
  });

  it("still need the blob to be linked in the repository", async () => {
    const digest = await digestOf(randomBytes(20));
    await pushBlob(REPO, randomBytes(5));
    await expectError(await getWithToken(REPO, digest, await downloadToken(REPO, digest)), 404, "BLOB_UNKNOWN");
  });
});
