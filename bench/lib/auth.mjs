// Request headers for a peer: a bearer token from this registry's token service (fetched with
// the admin's Basic credentials, refreshed well before its 5-minute expiry), nothing for peers
// without authentication.
const tokens = new Map();

export async function bearerToken(peer, scope) {
  const key = `${peer.url} ${scope}`;
  const cached = tokens.get(key);
  if (cached && Date.now() < cached.refreshAt) return cached.token;
  const url = `${peer.url}/token?service=edge-registry&scope=${encodeURIComponent(scope)}`;
  const response = await fetch(url, { headers: { Authorization: `Basic ${peer.basic}` } });
  const body = await response.json().catch(() => ({}));
  const token = body.token ?? body.access_token;
  if (!response.ok || !token) throw new Error(`GET ${url}: ${response.status} ${JSON.stringify(body)}`);
  const lifetimeMs = (body.expires_in ?? 300) * 1000;
  // Refresh at 60 % of the lifetime, so a token is never used within two minutes of expiring.
  tokens.set(key, { token, refreshAt: Date.now() + lifetimeMs * 0.6 });
  return token;
}

/** Authorization header (or none) for pulling from `repo` on `peer`. */
export async function pullHeaders(peer, repo) {
  if (!peer.auth) return {};
  return { Authorization: `Bearer ${await bearerToken(peer, `repository:${repo}:pull`)}` };
}

/** Authorization header (or none) for pushing to `repo` on `peer`. */
export async function pushHeaders(peer, repo) {
  if (!peer.auth) return {};
  return { Authorization: `Bearer ${await bearerToken(peer, `repository:${repo}:pull,push`)}` };
}
