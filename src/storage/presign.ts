/**
 * Presigned R2 URLs (S3-compatible SigV4 query signing, via aws4fetch) for answering blob GETs
 * with a redirect, so layer bytes never pass through the Worker. Optional: enabled when the R2
 * S3 API credentials and the bucket's URL are configured (R2_S3_ACCESS_KEY_ID,
 * R2_S3_SECRET_ACCESS_KEY, R2_S3_BUCKET_URL, R2_S3_REGION, BLOB_REDIRECT_SECONDS; parsed in
 * src/config/settings.ts).
 */
import { AwsClient } from "aws4fetch";
import type { PresignSettings } from "../config/settings";

export interface PresignConfig {
  client: AwsClient;
  bucketUrl: string;
  seconds: number;
}

/** One signing client per settings object (settings are parsed once per isolate). */
const configs = new WeakMap<PresignSettings, PresignConfig>();

/** The presigning configuration, or null when redirects are not configured. */
export function presignConfig(settings: PresignSettings | null): PresignConfig | null {
  if (settings === null) return null;
  let config = configs.get(settings);
  if (config === undefined) {
    config = {
      client: new AwsClient({
        accessKeyId: settings.accessKeyId,
        secretAccessKey: settings.secretAccessKey,
        service: "s3",
        region: settings.region,
      }),
      bucketUrl: settings.bucketUrl,
      seconds: settings.seconds,
    };
    configs.set(settings, config);
  }
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
