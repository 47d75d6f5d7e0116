/**
 * The console's registry-wide pages inside the runtime: users and their access keys (a key's
 * secret shown once on a page not cached; deleting a key ends its user's console sessions; a
 * POST without the CSRF token or from another origin is refused and changes nothing), the
 * audit trail (filters, pages newest first) and the pull-through caches with their upstream's
 * health.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ecr } from "../../support/ecr";
import { allowPolicy, createUser, repositoryArnOf, userArnOf } from "../../support/registry";
import { adminCookie, csrfOf, hrefPath, page, pageText, postForm, signInCookie } from "./support";

async function keysOf(user: string): Promise<string[]> {
  const rows = await env.DB.prepare("SELECT id FROM access_keys WHERE user = ? ORDER BY id")
    .bind(user)
    .all<{ id: string }>();
  return rows.results.map((row) => row.id);
}

async function sessionsOf(user: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM console_sessions WHERE username = ?")
    .bind(user)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** The console's key changes in the audit trail (written after each response: waited for). */
async function auditedKeyChanges(
  expected: number,
): Promise<{ action: string; source: string; request_parameters: string | null }[]> {
  for (let tries = 0; ; tries++) {
    const rows = await env.DB.prepare(
      "SELECT action, source, request_parameters, error_code FROM audit_events WHERE action LIKE 'iam:%AccessKey' AND error_code IS NULL ORDER BY id",
    ).all<{ action: string; source: string; request_parameters: string | null }>();
    if (rows.results.length >= expected || tries > 100) return rows.results;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("console users page", () => {
  it("lists users with their keys, and refuses a user without iam:ListUsers", async () => {
    const bob = await createUser("bob", allowPolicy(["ecr:*"], [repositoryArnOf("team-a/*")]));
    const text = await pageText(await adminCookie(), "/console/users");
    expect(text).toMatch(/<tr class="user" data-user="bob">/);
    expect(text).toContain(`<li data-key="${bob.accessKeyId}">`);
    expect(text).toContain("main");
    const refused = await page(await signInCookie(bob.accessKeyId, bob.secretAccessKey), "/console/users");
    expect(refused.status).toBe(403);
  });

  it("refuses a key POST without the CSRF token or from another origin, changing nothing", async () => {
    const bob = await createUser("bob");
    const cookie = await adminCookie();
    const token = await csrfOf(cookie);
    const create = "/console/users/bob/access-keys";
    const remove = `/console/users/bob/access-keys/${bob.accessKeyId}/delete`;
    const bobCookie = await signInCookie(bob.accessKeyId, bob.secretAccessKey);
    const forged: [string, Record<string, string>, Record<string, string>][] = [
      [create, {}, {}],
      [create, { _csrf: "not-the-token" }, {}],
      [create, { _csrf: token }, { Origin: "https://evil.example" }],
      [create, { _csrf: token }, { "Sec-Fetch-Site": "cross-site" }],
      [remove, {}, {}],
      [remove, { _csrf: token }, { Origin: "https://evil.example" }],
    ];
    for (const [path, fields, headers] of forged) {
      const response = await postForm(cookie, path, fields, headers);
      const text = await response.text();
      expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
      expect(text).not.toMatch(/secret-access-key/);
    }
    expect(await keysOf("bob")).toEqual([bob.accessKeyId]);
    expect(await sessionsOf("bob")).toBe(1);
    expect((await page(bobCookie, "/console")).status).toBe(200);
    // Another user's token does not pass for the admin's session.
    const bobToken = await csrfOf(bobCookie);
    expect((await postForm(cookie, create, { _csrf: bobToken })).status).toBe(403);
    expect(await keysOf("bob")).toEqual([bob.accessKeyId]);
  });

  it("refuses key changes to a user whose policies do not allow them", async () => {
    const carol = await createUser("carol", allowPolicy(["iam:ListUsers"]));
    await createUser("bob");
    const cookie = await signInCookie(carol.accessKeyId, carol.secretAccessKey);
    const text = await pageText(cookie, "/console/users");
    // No forms for what the policies refuse; a hand-made POST is refused all the same.
    expect(text).not.toContain("Create access key");
    const response = await postForm(cookie, "/console/users/bob/access-keys", { _csrf: await csrfOf(cookie) });
    expect(response.status).toBe(403);
    expect(await keysOf("bob")).toHaveLength(1);
  });

  it("creates a key and shows its secret once; deleting a key ends the user's console sessions", async () => {
    const bob = await createUser("bob", allowPolicy(["ecr:DescribeRepositories"]));
    const bobCookie = await signInCookie(bob.accessKeyId, bob.secretAccessKey);
    const cookie = await adminCookie();
    const token = await csrfOf(cookie);

    const created = await postForm(cookie, "/console/users/bob/access-keys", { _csrf: token });
    const text = await created.text();
    expect(created.status, text).toBe(200);
    expect(created.headers.get("Cache-Control")).toBe("no-store");
    expect(created.headers.get("Content-Security-Policy")).toMatch(/default-src 'none'/);
    expect(text).not.toMatch(/<script/i);
    const newId = /<code class="access-key-id">([A-Z0-9]+)<\/code>/.exec(text)?.[1];
    const secret = /<code class="secret-access-key">([^<]+)<\/code>/.exec(text)?.[1];
    expect(newId).toBeDefined();
    expect(secret).toBeDefined();
    expect(await keysOf("bob")).toEqual([bob.accessKeyId, newId!].sort());
    // The secret is not stored in clear, nor shown again.
    const stored = await env.DB.prepare("SELECT secret_hash, secret_sealed FROM access_keys WHERE id = ?")
      .bind(newId!)
      .first<{ secret_hash: string; secret_sealed: string | null }>();
    expect(JSON.stringify(stored)).not.toContain(secret!);
    const list = await pageText(cookie, "/console/users");
    expect(list).toContain(newId!);
    expect(list).not.toContain(secret!);
    // The new key works.
    const newCookie = await signInCookie(newId!, secret!);
    expect(await sessionsOf("bob")).toBe(2);

    const deleted = await postForm(cookie, `/console/users/bob/access-keys/${bob.accessKeyId}/delete`, {
      _csrf: token,
    });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get("Location")).toBe(`/console/users?deleted=${bob.accessKeyId}`);
    expect(await keysOf("bob")).toEqual([newId!]);
    // Every session of bob ended, the one of the key kept too.
    expect(await sessionsOf("bob")).toBe(0);
    expect((await page(bobCookie, "/console")).status).toBe(303);
    expect((await page(newCookie, "/console")).status).toBe(303);
    // The admin's own session goes on.
    expect((await page(cookie, "/console")).status).toBe(200);
    // Deleting it again: not found.
    const again = await postForm(cookie, `/console/users/bob/access-keys/${bob.accessKeyId}/delete`, { _csrf: token });
    expect(again.status).toBe(404);

    // Both changes are in the audit trail as the admin API's are, without the secret.
    // (The first is createUser's, through the admin API.)
    const audited = (await auditedKeyChanges(3)).slice(1);
    expect(audited.map((row) => `${row.action} ${row.source}`)).toEqual([
      "iam:CreateAccessKey registry-admin",
      "iam:DeleteAccessKey registry-admin",
    ]);
    expect(JSON.stringify(audited)).not.toContain(secret!);
    expect(audited[1]!.request_parameters).toContain(bob.accessKeyId);
  });
});

describe("console audit page", () => {
  it("lists records newest first, filters them, and pages with nextToken", async () => {
    const cookie = await adminCookie();
    // The sign-in's own record is written after its response: wait for it, so the records
    // below are the newest.
    for (
      let tries = 0;
      (await env.DB.prepare("SELECT count(*) AS n FROM audit_events").first<{ n: number }>())?.n === 0;
      tries++
    ) {
      expect(tries).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const now = Date.now();
    const rows = Array.from({ length: 60 }, (_, index) => ({
      at: now - 60_000 + index * 1000,
      actor: index % 2 === 0 ? userArnOf("alice") : userArnOf("bob"),
      action: index % 3 === 0 ? "PutImage" : "BatchGetImage",
      repository: index % 2 === 0 ? "team-a/app" : "team-b/app",
      errorCode: index % 5 === 0 ? "AccessDeniedException" : null,
      id: `event-${index}`,
    }));
    await env.DB.prepare(
      `INSERT INTO audit_events (at, actor, action, repository, detail, event_id, source, identity_type, error_code, calls)
       SELECT json_extract(value, '$.at'), json_extract(value, '$.actor'), json_extract(value, '$.action'),
         json_extract(value, '$.repository'), '{}', json_extract(value, '$.id'), 'ecr.amazonaws.com', 'IAMUser',
         json_extract(value, '$.errorCode'), 1
       FROM json_each(?)`,
    )
      .bind(JSON.stringify(rows))
      .run();
    const eventIds = (text: string) => [...text.matchAll(/<dd class="event-id">(event-\d+)<\/dd>/g)].map((m) => m[1]);

    const first = await pageText(cookie, "/console/audit");
    const firstIds = eventIds(first);
    // 20 records a page (a page of 50 weighed 88 KB): 59..40, 39..20, 19..0.
    expect(firstIds).toHaveLength(20);
    expect(firstIds[0]).toBe("event-59");
    expect(firstIds[19]).toBe("event-40");
    const olderOf = (text: string) => /<a href="([^"]*nextToken=\d+[^"]*)">Older<\/a>/.exec(text)?.[1];
    const older = olderOf(first);
    expect(older).toBeDefined();
    const second = await pageText(cookie, hrefPath(older!));
    expect(eventIds(second)).toEqual(Array.from({ length: 20 }, (_, index) => `event-${39 - index}`));
    const third = await pageText(cookie, hrefPath(olderOf(second)!));
    expect(eventIds(third)).toEqual(Array.from({ length: 20 }, (_, index) => `event-${19 - index}`));
    // What is older still is this test's own calls (signing in, creating users): none of the 60.
    const fourth = olderOf(third);
    if (fourth !== undefined) expect(eventIds(await pageText(cookie, hrefPath(fourth)))).toEqual([]);

    const filtered = await pageText(
      cookie,
      `/console/audit?${new URLSearchParams({ principal: userArnOf("alice"), eventName: "PutImage", repository: "team-a/app", result: "error" }).toString()}`,
    );
    // alice (even), PutImage (multiple of 3), errors (multiple of 5): multiples of 30.
    expect(eventIds(filtered)).toEqual(["event-30", "event-0"]);
    const success = eventIds(await pageText(cookie, "/console/audit?eventName=PutImage&result=success"));
    expect(success).toHaveLength(16);
    expect(success.every((id) => Number(id!.slice(6)) % 5 !== 0)).toBe(true);
  });
});

describe("console pull-through page", () => {
  it("lists the rules with their upstream's health", async () => {
    await ecr("CreatePullThroughCacheRule", {
      ecrRepositoryPrefix: "hub",
      upstreamRegistryUrl: "registry-1.docker.io",
    });
    await ecr("CreatePullThroughCacheRule", { ecrRepositoryPrefix: "quay", upstreamRegistryUrl: "quay.io" });
    await ecr("CreatePullThroughCacheRule", { ecrRepositoryPrefix: "k8s", upstreamRegistryUrl: "registry.k8s.io" });
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO pull_through_upstream_status (prefix, last_contact_at, last_status, rate_limit_limit, rate_limit_remaining,
         rate_limit_source, rate_limited_at, last_error, last_error_at, manifest_requests, blob_requests)
       VALUES ('hub', ?, 429, '100;w=21600', '0;w=21600', '203.0.113.7', ?, 'upstream answered 429', ?, 12, 30),
              ('quay', ?, 200, NULL, NULL, NULL, NULL, NULL, NULL, 3, 4)`,
    )
      .bind(now, now, now, now)
      .run();
    const text = await pageText(await adminCookie(), "/console/pull-through");
    const health = [...text.matchAll(/<tr class="rule" data-prefix="(\w+)">[\s\S]*?<td class="health-([\w-]+)">/g)].map(
      (match) => `${match[1]} ${match[2]}`,
    );
    expect(health).toEqual(["hub rate-limited", "k8s unused", "quay ok"]);
    expect(text).toContain("0;w=21600 left of 100;w=21600");
    expect(text).toContain("upstream answered 429");
    expect(text).toContain("12 manifest, 30 blob");
  });
});
