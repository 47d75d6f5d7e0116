/**
 * Layer download URLs that carry their own authorization, for GetDownloadUrlForLayer when R2's
 * S3 API is not configured (local development, tests):
 * `<origin>/v2/<name>/blobs/<digest>?X-Registry-Token=<token>`, fetchable with a plain GET and
 * no Authorization header.
 *
 * The token is a signed JWT (src/auth/tokens.ts) of its own use, "download": it is refused as
 * a bearer token, and bearer or login tokens are refused here. It names one repository and
 * one digest and expires after DOWNLOAD_TOKEN_SECONDS. Only a blob GET honours it, and only
 * for the blob it names; the GET still checks that the repository links the blob.
 */
import type { AppContext } from "../app-env";
import { OciError, RegistryError } from "../errors";
import type { AuthConfig } from "./config";
import { issueDownloadToken, verifyDownloadToken, type DownloadGrant, type TokenSubject } from "./tokens";

export const DOWNLOAD_TOKEN_PARAM = "X-Registry-Token";

/** A URL on this registry from which anyone holding it may GET one blob for a few minutes. */
export async function mintDownloadUrl(
  origin: string,
  config: AuthConfig,
  subject: TokenSubject,
  grant: DownloadGrant,
): Promise<string> {
  const { token } = await issueDownloadToken(config, subject, grant);
  const url = new URL(`/v2/${grant.repository}/blobs/${grant.digest}`, origin);
  url.searchParams.set(DOWNLOAD_TOKEN_PARAM, token);
  return url.toString();
}

/**
 * True when the request is a download URL's GET of the blob its token grants; false when it
 * carries no download token (ordinary authorization applies). A token that does not verify,
 * has expired or names another blob is refused outright.
 */
export async function authorizedByDownloadUrl(
  c: AppContext,
  config: AuthConfig,
  grant: DownloadGrant,
): Promise<boolean> {
  const token = new URL(c.req.url).searchParams.get(DOWNLOAD_TOKEN_PARAM);
  if (token === null) return false;
  const granted = await verifyDownloadToken(config, token);
  if (granted === null || granted.repository !== grant.repository || granted.digest !== grant.digest) {
    throw new RegistryError(OciError.DENIED, "the download URL is invalid, has expired, or is not for this blob");
  }
  return true;
}
