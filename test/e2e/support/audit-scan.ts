/**
 * The audit trail must never hold a secret. After the whole e2e run (global teardown), every
 * record is read through the admin API and searched for the registry's own secrets and for
 * anything shaped like one: a JWT (registry and login tokens), a Standard Webhooks secret, a
 * PEM private key, an Authorization header value, or an access key's 40-character secret
 * (mixed-case letters and digits, unlike digests and ids).
 */

const SECRET_SHAPES: readonly [string, RegExp][] = [
  ["a JWT", /eyJ[\w-]{8,}\.[\w-]{8,}\./],
  ["a webhook secret", /whsec_/],
  ["a private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["an Authorization header", /\b(Basic|Bearer) [A-Za-z0-9+/=._-]{16,}/],
  ["an access key secret", /(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{40}(?![A-Za-z0-9])/],
];

/** Pagination cursors are opaque base64 (ECR's nextToken) and may look like a key's secret. */
const CURSORS = new Set(["nextToken"]);

/** Every string of a record with the name it is held under, cursors left out. */
function stringsOf(value: unknown, name = ""): string[] {
  if (typeof value === "string") return CURSORS.has(name) ? [] : [value];
  if (Array.isArray(value)) return value.flatMap((item) => stringsOf(item, name));
  if (typeof value === "object" && value !== null)
    return Object.entries(value).flatMap(([key, item]) => stringsOf(item, key));
  return [];
}

/** Each record (by eventID) that holds a secret, with what it holds; empty when none does. */
export async function secretsInAuditTrail(
  url: string,
  authorization: string,
  knownSecrets: readonly string[],
): Promise<{ records: number; findings: string[] }> {
  const findings: string[] = [];
  let records = 0;
  let token: string | undefined;
  do {
    const query = `maxResults=1000${token === undefined ? "" : `&nextToken=${token}`}`;
    const response = await fetch(`${url}/admin/audit-events?${query}`, { headers: { Authorization: authorization } });
    if (!response.ok) throw new Error(`GET /admin/audit-events answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { events: Record<string, unknown>[]; nextToken?: string };
    for (const event of page.events) {
      records += 1;
      const text = JSON.stringify(event);
      for (const secret of knownSecrets)
        if (secret.length >= 8 && text.includes(secret)) findings.push(`${String(event.eventID)}: a registry secret`);
      const strings = stringsOf(event);
      for (const [what, shape] of SECRET_SHAPES)
        if (strings.some((value) => shape.test(value)))
          findings.push(`${String(event.eventID)} (${String(event.eventName)}): ${what}`);
    }
    token = page.nextToken;
  } while (token !== undefined);
  return { records, findings };
}
