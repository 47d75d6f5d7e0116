/**
 * Presigned R2 URLs (S3-compatible SigV4 query signing, via aws4fetch) for answering blob GETs
 * with a redirect, so layer bytes never pass through the Worker. Optional: enabled when the R2
 * S3 API credentials and the bucket's URL are configured.
 *
 *   R2_S3_ACCESS_KEY_ID, R2_S3_SECRET_ACCESS_KEY   an R2 API token's S3 credentials (secrets)
 *   R2_S3_BUCKET_URL   https://<account-id>.r2.cloudflarestorage.com/<bucket-name>
 *   R2_S3_REGION       "auto" for R2 (default)
 *   BLOB_REDIRECT_SECONDS   lifetime of a presigned URL (default 300)
 */
import { AwsClient } from "aws4fetch";

export interface PresignConfig {
  client: AwsClient;
  bucketUrl: string;
  seconds: number;
}

interface PresignEnv {
  R2_S3_ACCESS_KEY_ID?: string;
  R2_S3_SECRET_ACCESS_KEY?: string;
  R2_S3_BUCKET_URL?: string;
  R2_S3_REGION?: string;
  BLOB_REDIRECT_SECONDS?: string;
}

let cached: { source: string; config: PresignConfig | null } | null = null;

/** The presigning configuration, or null when redirects are not configured. */
export function presignConfig(env: Env): PresignConfig | null {
  const vars = env as unknown as PresignEnv;
  const source = JSON.stringify([vars.R2_S3_ACCESS_KEY_ID, vars.R2_S3_SECRET_ACCESS_KEY, vars.R2_S3_BUCKET_URL, vars.R2_S3_REGION, vars.BLOB_REDIRECT_SECONDS]);
  if (cached?.source === source) return cached.config;
  let config: PresignConfig | null = null;
  if (vars.R2_S3_ACCESS_KEY_ID && vars.R2_S3_SECRET_ACCESS_KEY && vars.R2_S3_BUCKET_URL) {
    config = {
      client: new AwsClient({
        accessKeyId: vars.R2_S3_ACCESS_KEY_ID,
        secretAccessKey: vars.R2_S3_SECRET_ACCESS_KEY,
        service: "s3",
        region: vars.R2_S3_REGION || "auto",
      }),
      bucketUrl: vars.R2_S3_BUCKET_URL.replace(/\/+$/, ""),
      seconds: Number(vars.BLOB_REDIRECT_SECONDS || "300"),
    };
  }
  cached = { source, config };
  return config;
}

/** A URL that lets its holder GET the object for `config.seconds`. */
export async function presignGet(config: PresignConfig, objectKey: string, now: Date = new Date()): Promise<string> {
  const path = objectKey.split("/").map(encodeURIComponent).join("/");
  const url = new URL(`${config.bucketUrl}/${path}`);
  url.searchParams.set("X-Amz-Expires", String(config.seconds));
  const datetime = now.toISOString().replace(/[:-]|\.\d{3}/g, "");
  const signed = await config.client.sign(new Request(url, { method: "GET" }), { aws: { signQuery: true, datetime } });
  return signed.url;
}
