// Small helpers the workloads need besides skopeo: distribution-API uploads, the bench
// counters, the ECR API (the AWS SDK) and the admin API of an edge-registry peer.
import { ECRClient } from "@aws-sdk/client-ecr";
import { pushHeaders } from "./auth.mjs";
import { curlUpload } from "./curl.mjs";

/** Monolithic upload: `POST /v2/<repo>/blobs/uploads/?digest=<d>` with the whole body (curl -T). */
export async function monolithicUpload(peer, repo, blob, scratch) {
  const headers = await pushHeaders(peer, repo);
  const url = `${peer.url}/v2/${repo}/blobs/uploads/?digest=${blob.digest}`;
  const result = await curlUpload(url, blob.path, { method: "POST", headers, expectStatus: [201], scratch });
  return result;
}

/** Two-step upload that every registry supports: POST a session, then PUT ?digest= with the body. */
export async function postPutUpload(peer, repo, blob, scratch) {
  const headers = await pushHeaders(peer, repo);
  const started = await fetch(`${peer.url}/v2/${repo}/blobs/uploads/`, { method: "POST", headers });
  await started.arrayBuffer();
  const location = started.headers.get("location");
  if (started.status !== 202 || !location) throw new Error(`POST upload on ${peer.name}: ${started.status}`);
  const target = new URL(location, peer.url);
  target.searchParams.set("digest", blob.digest);
  return curlUpload(target.href, blob.path, { method: "PUT", headers, expectStatus: [201], scratch });
}

/** This registry's bench counters since the last call (`GET /_bench/counters` returns and resets). */
export async function drainCounters(peer) {
  const response = await fetch(`${peer.url}/_bench/counters`);
  if (response.status !== 200) throw new Error(`GET /_bench/counters: ${response.status}`);
  return response.json();
}

/** The AWS SDK's ECR client for an edge-registry peer, signed with its admin key. */
export function ecrClient(peer, region = "us-east-1") {
  return new ECRClient({
    endpoint: peer.url,
    region,
    credentials: { accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey },
  });
}

/** One admin API call (Basic, the admin key) with an optional JSON body; its JSON answer (null for 204). */
export async function adminCall(peer, method, path, body) {
  const response = await fetch(`${peer.url}${path}`, {
    method,
    headers: { Authorization: `Basic ${peer.basic}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${method} ${path} on ${peer.url}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}
