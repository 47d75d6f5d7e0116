/**
 * ECR control-plane calls from inside workerd: requests signed by AWS's signer
 * (@smithy/signature-v4, on the registry's WebCrypto hash) with the bootstrap admin's key
 * unless given another. ECR Public's actions (`aws ecr-public`) go to the same endpoint with
 * their own target prefix and signing name (ecrPublicCall).
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { env, exports } from "cloudflare:workers";
import { WebCryptoSha256 } from "../../src/control/sigv4";
import { ORIGIN } from "./origin";

export interface EcrResult {
  status: number;
  body: Record<string, unknown>;
  /** `__type` of an error answer, else "". */
  type: string;
  /** The answer's `x-amzn-RequestId`. */
  requestId: string | null;
}

/** Which API a call is for: ECR's unless told. */
export interface ApiOptions {
  /** The X-Amz-Target prefix, dot included. */
  targetPrefix?: string;
  /** The service name the request is signed for (the credential scope's). */
  service?: string;
}

export const ECR_PUBLIC: Required<ApiOptions> = { targetPrefix: "SpencerFrontendService.", service: "ecr-public" };

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

function adminKey(): Credentials {
  return { accessKeyId: env.REGISTRY_ADMIN_ACCESS_KEY_ID, secretAccessKey: env.REGISTRY_ADMIN_SECRET_ACCESS_KEY };
}

/**
 * Calls one ECR action with `input`, signed as the AWS SDK would sign it. `edgeHeaders` are
 * added after signing, as Cloudflare's edge adds them (CF-Connecting-IP).
 */
export async function ecrCall(
  action: string,
  input: Record<string, unknown>,
  credentials: Credentials = adminKey(),
  edgeHeaders: Record<string, string> = {},
  api: ApiOptions = {},
): Promise<EcrResult> {
  const { targetPrefix = "AmazonEC2ContainerRegistry_V20150921.", service = "ecr" } = api;
  const url = new URL(ORIGIN);
  const body = JSON.stringify(input);
  const signer = new SignatureV4({ service, region: "us-east-1", credentials, sha256: WebCryptoSha256 });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      path: "/",
      query: {},
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `${targetPrefix}${action}`,
      },
      body,
    },
    { signingDate: new Date() },
  );
  const response = await exports.default.fetch(
    new Request(`${ORIGIN}/`, {
      method: "POST",
      headers: { ...(signed.headers as Record<string, string>), ...edgeHeaders },
      body,
    }),
  );
  // Decoded by hand: workerd warns on .text() and .json() of a body whose Content-Type is not a
  // text type, which AWS JSON 1.1 (application/x-amz-json-1.1) is not.
  const parsed = JSON.parse(new TextDecoder().decode(await response.arrayBuffer())) as Record<string, unknown>;
  return {
    status: response.status,
    body: parsed,
    type: typeof parsed.__type === "string" ? parsed.__type : "",
    requestId: response.headers.get("x-amzn-RequestId"),
  };
}

/** Like ecrCall, but fails the test unless the action succeeds. */
export async function ecr(action: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await ecrCall(action, input);
  if (result.status !== 200) throw new Error(`${action}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/** Calls one ECR Public action (`SpencerFrontendService.<action>`, signed for `ecr-public`). */
export async function ecrPublicCall(
  action: string,
  input: Record<string, unknown>,
  credentials: Credentials = adminKey(),
): Promise<EcrResult> {
  return ecrCall(action, input, credentials, {}, ECR_PUBLIC);
}
