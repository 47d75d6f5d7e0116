// Small distribution-API helpers the workloads need besides skopeo.
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
