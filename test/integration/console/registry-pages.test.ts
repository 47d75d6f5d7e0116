/**
 * The console's registry pages inside the runtime: each renders for the admin under the CSP
 * without script; a user whose policy names only `team-a/*` is refused (403) another
 * repository's scans, lifecycle and replication and the registry-wide pages; the scan page's
 * severity counts are DescribeImageScanFindings' and its findings come most severe first and
 * filter by severity and package; the lifecycle page previews what the policy would expire
 * (as the API's preview does) and deletes nothing; the replication page shows each
 * destination's newest status, and the backlog (on asking) only to who may describe the registry.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ecr, ecrCall } from "../../support/ecr";
import { ACCOUNT_ID, allowPolicy, createUser, pushImage, repositoryArnOf } from "../../support/registry";
import { ADVISORIES, applicationImage } from "../../support/scan-fixtures";
import { importAdvisories, pushFixture, waitForScan } from "../scanning/support";
import { adminCookie, expectPageSecurity, page, pageText, signInCookie } from "./support";

const DAY = 24 * 60 * 60 * 1000;

function scanPath(name: string, digest: string, extra: Record<string, string> = {}): string {
  return `/console/scans?${new URLSearchParams({ repository: name, digest, ...extra }).toString()}`;
}

/** A user allowed everything on `team-a/*` repositories and nothing else. */
async function teamACookie(): Promise<string> {
  const user = await createUser("team-a-dev", allowPolicy(["ecr:*"], [repositoryArnOf("team-a/*")]));
  return signInCookie(user.accessKeyId, user.secretAccessKey);
}

/** The severity counts the scan page shows. */
function pageCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/<li data-severity="(\w+)">[\s\S]*?<strong class="count">(\d+)<\/strong>/g))
    counts[match[1]!] = Number(match[2]);
  return counts;
}

/** The findings rows of the scan page: `severity advisory package`. */
function pageFindings(text: string): string[] {
  return [...text.matchAll(/<tr class="finding">([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<code>([^<]*)<\/code>|<td class="sev-(\w+)">/g)]
      .map((cell) => cell[1] ?? cell[2])
      .slice(0, 3)
      .join(" "),
  );
}

const LIFECYCLE_POLICY = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: "keep the newest release",
      selection: { tagStatus: "tagged", tagPrefixList: ["v"], countType: "imageCountMoreThan", countNumber: 1 },
      action: { type: "expire" },
    },
  ],
});

describe("console registry pages", () => {
  it("render for the admin, under the CSP and without script", async () => {
    const cookie = await adminCookie();
    const name = "team-a/app";
    const { digest } = await pushImage(name, "v1");
    await env.DB.prepare(
      "INSERT INTO image_scans (repository, digest, status, description, started_at, completed_at, severity_counts) VALUES (?, ?, 'COMPLETE', 'done', ?, ?, '{}')",
    )
      .bind(name, digest, Date.now(), Date.now())
      .run();
    await ecr("PutLifecyclePolicy", { repositoryName: name, lifecyclePolicyText: LIFECYCLE_POLICY });
    const paths = [
      scanPath(name, digest),
      `/console/lifecycle?repository=${name}`,
      `/console/replication?repository=${name}&digest=${digest}`,
      `/console/replication?repository=${name}&digest=${digest}&backlog=1`,
      "/console/pull-through",
      "/console/audit",
      "/console/users",
    ];
    for (const path of paths) {
      const text = await pageText(cookie, path);
      expect(text, path).toMatch(/class="console-nav"/);
    }
    // Refusals and missing things are pages too, under the same headers.
    for (const [path, status] of [
      [`/console/scans?repository=${name}&digest=sha256:${"0".repeat(64)}`, 404],
      ["/console/lifecycle?repository=missing/repo", 404],
      ["/console/replication?repository=BAD NAME", 400],
      ["/console/audit?nextToken=abc", 400],
    ] as const) {
      const response = await page(cookie, path);
      expect(response.status, path).toBe(status);
      expectPageSecurity(response, await response.text());
    }
  });

  it("sends a visitor without a session to sign in", async () => {
    const response = await page("", "/console/audit");
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe("/console/sign-in?next=%2Fconsole%2Faudit");
  });

  it("refuses a user limited to team-a/* another repository's pages and the registry-wide ones", async () => {
    const { digest } = await pushImage("team-b/app", "v1");
    const own = await pushImage("team-a/app", "v1");
    const cookie = await teamACookie();
    const refused = [
      scanPath("team-b/app", digest),
      "/console/lifecycle?repository=team-b/app",
      `/console/replication?repository=team-b/app&digest=${digest}`,
      // A repository that does not exist is refused alike: the refusal does not tell.
      "/console/lifecycle?repository=team-b/missing",
      "/console/users",
      "/console/audit",
      "/console/pull-through",
    ];
    for (const path of refused) {
      const response = await page(cookie, path);
      const text = await response.text();
      expect(response.status, path).toBe(403);
      expectPageSecurity(response, text);
      expect(text).toMatch(/Your policies do not allow you to/);
    }
    // Its own repository's pages open (the image was never scanned: 404, not 403).
    expect((await page(cookie, `/console/replication?repository=team-a/app&digest=${own.digest}`)).status).toBe(200);
    expect((await page(cookie, "/console/lifecycle?repository=team-a/app")).status).toBe(200);
    expect((await page(cookie, scanPath("team-a/app", own.digest))).status).toBe(404);
  });

  it("shows the scan's severity counts as DescribeImageScanFindings does, findings most severe first, filtered", async () => {
    await importAdvisories(ADVISORIES);
    const name = "team-a/scanned";
    const created = await ecrCall("CreateRepository", {
      repositoryName: name,
      imageScanningConfiguration: { scanOnPush: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const digest = await pushFixture(name, "v1", await applicationImage());
    const done = await waitForScan(name, digest);
    const apiCounts = (done.body.imageScanFindings as { findingSeverityCounts: Record<string, number> })
      .findingSeverityCounts;
    expect(apiCounts).toEqual({ CRITICAL: 1, HIGH: 2, MEDIUM: 1 });

    const cookie = await adminCookie();
    const text = await pageText(cookie, scanPath(name, digest));
    expect(text).toMatch(/data-status="COMPLETE"/);
    expect(pageCounts(text)).toEqual(apiCounts);
    const findings = pageFindings(text);
    expect(findings.map((line) => line.split(" ")[0])).toEqual(["CRITICAL", "HIGH", "HIGH", "MEDIUM"]);
    expect(findings[0]).toBe("CRITICAL CVE-2021-44228 org.apache.logging.log4j:log4j-core");
    expect(text).toContain('href="https://osv.dev/vulnerability/GHSA-jfh8-c2jp-5v3q"');
    expect(text).toContain("<code>2.15.0</code>");

    const high = pageFindings(await pageText(cookie, scanPath(name, digest, { severity: "HIGH" })));
    expect(high.map((line) => line.split(" ")[0])).toEqual(["HIGH", "HIGH"]);
    const lodash = pageFindings(await pageText(cookie, scanPath(name, digest, { package: "LODASH" })));
    expect(lodash).toEqual(["HIGH CVE-2021-23337 lodash"]);
    const none = await pageText(cookie, scanPath(name, digest, { severity: "LOW" }));
    expect(pageFindings(none)).toEqual([]);
    // The counts are the scan's, whatever the filter.
    expect(pageCounts(none)).toEqual(apiCounts);
  });

  it("previews what the lifecycle policy would expire, as the API's preview does, and deletes nothing", async () => {
    const name = "team-a/life";
    const pushed = [];
    for (const [index, tag] of ["v1", "v2", "v3"].entries()) {
      const { digest } = await pushImage(name, tag);
      // Oldest first, days apart: v3 is the newest and the one kept.
      await env.DB.prepare("UPDATE manifests SET pushed_at = ? WHERE repository = ? AND digest = ?")
        .bind(Date.now() - (10 - index) * DAY, name, digest)
        .run();
      pushed.push(digest);
    }
    await ecr("PutLifecyclePolicy", { repositoryName: name, lifecyclePolicyText: LIFECYCLE_POLICY });

    const cookie = await adminCookie();
    const text = await pageText(cookie, `/console/lifecycle?repository=${name}`);
    expect(text).toContain("keep the newest release");
    expect(text).toContain("&quot;imageCountMoreThan&quot;");
    const expiring = [...text.matchAll(/<tr class="expiring" data-digest="([^"]+)">/g)].map((match) => match[1]);
    expect(expiring).toEqual([pushed[0], pushed[1]]);
    expect(text).toMatch(/<strong class="expiring-total">2<\/strong>/);
    expect(text).toMatch(/v1<\/td>/);

    // The API's preview decides the same.
    await ecr("StartLifecyclePolicyPreview", { repositoryName: name });
    const preview = await ecr("GetLifecyclePolicyPreview", { repositoryName: name });
    const apiDigests = (preview.previewResults as { imageDigest: string; appliedRulePriority: number }[]).map(
      (result) => result.imageDigest,
    );
    expect(new Set(apiDigests)).toEqual(new Set(expiring));

    // Viewing the page deleted nothing.
    const left = await env.DB.prepare("SELECT count(*) AS n FROM manifests WHERE repository = ?")
      .bind(name)
      .first<{ n: number }>();
    expect(left?.n).toBe(3);
  });

  it("hides the preview from who may read the policy but not preview it", async () => {
    const name = "team-a/life";
    await pushImage(name, "v1");
    await ecr("PutLifecyclePolicy", { repositoryName: name, lifecyclePolicyText: LIFECYCLE_POLICY });
    const user = await createUser("policy-reader", allowPolicy(["ecr:GetLifecyclePolicy"], [repositoryArnOf(name)]));
    const text = await pageText(
      await signInCookie(user.accessKeyId, user.secretAccessKey),
      `/console/lifecycle?repository=${name}`,
    );
    expect(text).toContain("keep the newest release");
    expect(text).not.toMatch(/class="expiring-total"/);
    expect(text).toMatch(/do not allow ecr:GetLifecyclePolicyPreview/);
  });

  it("shows each destination's newest replication status, and the backlog only to who may describe the registry", async () => {
    const name = "team-a/replicated";
    const { digest } = await pushImage(name, "v1");
    const rows: [string, string, string, string | null][] = [
      ["210987654321", "us-west-2", "FAILED", "DESTINATION_UNAVAILABLE"],
      [ACCOUNT_ID, "eu-west-1", "COMPLETE", null],
      ["333333333333", "us-east-1", "FAILED", "REGISTRY_POLICY_DENIED"],
      ["210987654321", "us-west-2", "IN_PROGRESS", "DESTINATION_UNAVAILABLE"],
    ];
    for (const [registryId, region, status, failureCode] of rows) {
      await env.DB.prepare(
        `INSERT INTO replication_items (repository, digest, tag, registry_id, region, status, failure_code, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, 'v1', ?, ?, ?, ?, 0, 0, 0)`,
      )
        .bind(name, digest, registryId, region, status, failureCode)
        .run();
    }
    const path = `/console/replication?repository=${name}&digest=${digest}`;
    const text = await pageText(await adminCookie(), path);
    const shown = [
      ...text.matchAll(/<tr class="destination" data-status="(\w+)"><td><code>(\d+)<\/code><\/td><td>([\w-]+)/g),
    ].map((match) => `${match[2]} ${match[3]} ${match[1]}`);
    expect(shown).toEqual([
      "210987654321 us-west-2 IN_PROGRESS",
      `${ACCOUNT_ID} eu-west-1 COMPLETE`,
      "333333333333 us-east-1 FAILED",
    ]);
    expect(text).toContain("retrying after DESTINATION_UNAVAILABLE");
    expect(text).toContain("REGISTRY_POLICY_DENIED");
    // The backlog reads every item: on asking only.
    expect(text).not.toContain("Registry backlog");
    expect(text).toContain("replication backlog</a>");
    const withBacklog = await pageText(await adminCookie(), `${path}&backlog=1`);
    expect(withBacklog).toContain("Registry backlog");
    expect(withBacklog).toMatch(
      /<td><code>210987654321<\/code><\/td><td>us-west-2<\/td><td>1 \(retrying: DESTINATION_UNAVAILABLE\)<\/td><td>0<\/td><td>1<\/td>/,
    );

    const userText = await pageText(await teamACookie(), `${path}&backlog=1`);
    expect(userText).toContain("333333333333");
    expect(userText).not.toContain("Registry backlog");
    expect(userText).not.toContain("replication backlog");
  });
});
