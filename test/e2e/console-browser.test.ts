/**
 * The web UI (src/console: the gallery at `/`, the console under `/console`) in a real browser:
 * Debian's Chromium driven by playwright-core (test/e2e/support/browser.ts), against the shared
 * e2e registry. Images are pushed with skopeo (a multi-arch index, a scanned fixture image) and
 * over plain HTTP (the lifecycle repository's two images); users, policies and catalog data go
 * through the admin API and the ECR APIs, as the other e2e tests do.
 *
 * Every page visited is checked with axe-core (no serious or critical violation), must carry a
 * Content-Security-Policy header, and is kept as a full-page screenshot under
 * test/.tmp/screenshots/. The last tests assert those over every page and print what each page
 * weighed and how long it took (bench/console-pages.mjs measures the same with repetitions).
 */
import { createServer, type Server } from "node:http";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import {
  CreateRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  PutLifecyclePolicyCommand,
  SetRepositoryPolicyCommand,
  type DescribeImageScanFindingsCommandOutput,
} from "@aws-sdk/client-ecr";
import type { Browser, BrowserContext, Cookie, Page, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { gzipLayer } from "../support/scan-fixtures";
import {
  closeChromium,
  describeViolations,
  launchChromium,
  screenshot,
  SCREENSHOT_DIR,
  seriousViolations,
  signIn,
  type AxeViolation,
} from "./support/browser";
import { registryFetch } from "./support/context";
import { adminCredentials, createUser, ecrClient, type Credentials } from "./support/ecr";
import { buildImage, MediaTypes, sha256, writeLayout, type Blob, type Descriptor } from "./support/image-builder";
import { fixtureLayers, writeImageLayout } from "./support/scan-images";
import { send, signed } from "./support/signed-request";
import { dockerRef, ociRef, serverLogTail, skopeo } from "./support/skopeo";
import { KEEP_ONE_IMAGE, pushTinyImage } from "./support/tiny-image";

const BASE = inject("registryUrl");
const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Text that would run if any page put it into the DOM as markup. */
const XSS_SCRIPT = `<script>document.title="pwned-${RUN}"</script>`;
const XSS_IMG = `<img src=x onerror="document.title='pwned-img-${RUN}'">`;

const NAMES = {
  publicRepo: `ui-public-${RUN}`,
  privateRepo: `ui-private-${RUN}`,
  multiArch: `team-a/ui-${RUN}`,
  teamB: `team-b/ui-${RUN}`,
  scanned: `ui-scan-${RUN}`,
  lifecycle: `ui-lifecycle-${RUN}`,
  teamAUser: `ui-team-a-${RUN}`,
};
const MULTI_ARCH_TAG = "1.0";
const EXPIRING_TAG = `expire-me-${RUN}`;
const KEPT_TAG = `keep-me-${RUN}`;

const PUBLIC_PULL_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "Public",
      Effect: "Allow",
      Principal: "*",
      Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
    },
  ],
});

// ---- the scanned fixture: npm packages of this file's own, and advisories naming only them --------

/**
 * Advisories of npm packages no other test's image holds (scanning.test.ts imports the shared
 * fixture advisories and expects all of them to be new, so this file must not import those).
 */
const SCAN_PACKAGES = [
  { name: "edge-ui-fixture-critical", version: "1.0.0", id: "GHSA-ui00-crit-0001", cve: "CVE-2099-10001" },
  { name: "edge-ui-fixture-high-a", version: "2.0.0", id: "GHSA-ui00-high-0002", cve: "CVE-2099-10002" },
  { name: "edge-ui-fixture-high-b", version: "3.1.0", id: "GHSA-ui00-high-0003", cve: "CVE-2099-10003" },
  { name: "edge-ui-fixture-medium", version: "0.4.2", id: "GHSA-ui00-medi-0004", cve: "CVE-2099-10004" },
  { name: "edge-ui-fixture-low", version: "5.0.0", id: "GHSA-ui00-lowx-0005", cve: "CVE-2099-10005" },
] as const;
const VECTORS = {
  critical: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", // 9.8
  high: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", // 7.5
  medium: "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", // 6.1
  low: "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", // 2.0
};
function scanAdvisories(): Record<string, unknown>[] {
  const vector = (name: string) =>
    name.endsWith("critical")
      ? VECTORS.critical
      : name.includes("high")
        ? VECTORS.high
        : name.endsWith("medium")
          ? VECTORS.medium
          : VECTORS.low;
  return SCAN_PACKAGES.map((pkg) => ({
    schema_version: "1.6.0",
    id: pkg.id,
    modified: "2024-01-15T10:00:00Z",
    published: "2023-11-06T16:15:00Z",
    summary: `${pkg.id} summary`,
    aliases: [pkg.cve],
    affected: [
      {
        package: { ecosystem: "npm", name: pkg.name },
        ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "99.0.0" }] }],
      },
    ],
    severity: [{ type: "CVSS_V3", score: vector(pkg.name) }],
    references: [{ type: "ADVISORY", url: `https://example.org/${pkg.id}` }],
  }));
}

const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"] as const;

// ---- pages: every visit is checked for axe, CSP and kept as a screenshot --------------------------

interface Visit {
  name: string;
  url: string;
  status: number;
  contentType: string;
  csp: string | null;
  violations: AxeViolation[];
  /** The document: bytes on the wire (headers included) and decoded body bytes. */
  documentTransfer: number;
  documentBytes: number;
  /** Document and subresources together, on the wire. */
  totalTransfer: number;
  /** requestStart → responseStart of the document (the server's time plus loopback), ms. */
  serverMs: number;
  /** navigation start → load event end, ms. */
  loadMs: number;
}
const visits: Visit[] = [];

interface NavigationTiming {
  transferSize: number;
  decodedBodySize: number;
  requestStart: number;
  responseStart: number;
  loadEventEnd: number;
  resources: number;
}
/** Runs in the page (a string: the e2e tsconfig has no DOM types, and CDP's evaluate is not under the page's CSP). */
const NAVIGATION_TIMING = `(() => {
  const n = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource").reduce((sum, r) => sum + r.transferSize, 0);
  return { transferSize: n.transferSize, decodedBodySize: n.decodedBodySize, requestStart: n.requestStart,
    responseStart: n.responseStart, loadEventEnd: n.loadEventEnd, resources };
})()`;

/**
 * Opens `path`, expects `status`, runs axe, records the CSP header and the page's weight, and
 * saves a screenshot named `name` (the axe and CSP results are asserted over all visits at the end).
 */
async function visit(page: Page, path: string, name: string, status = 200): Promise<Response> {
  const response = await page.goto(`${BASE}${path}`, { waitUntil: "load" });
  if (response === null) throw new Error(`no response for ${path}`);
  await recordVisit(page, response, name);
  expect(response.status(), `${path} → ${page.url()}\n${(await pageText(page)).slice(0, 600)}`).toBe(status);
  return response;
}

/** The checks of visit() for a page reached another way (a form submitted, a redirect followed). */
async function recordVisit(page: Page, response: Response, name: string): Promise<void> {
  const timing = await page.evaluate<NavigationTiming>(NAVIGATION_TIMING);
  const headers = await response.allHeaders();
  const contentType = headers["content-type"] ?? "";
  // A page that is not HTML (the API's JSON 404 of a route not written yet) is not checked by
  // axe: its own test fails on the status, and the summary lists it apart.
  const html = contentType.startsWith("text/html");
  const violations = html ? await seriousViolations(page) : [];
  await screenshot(page, name);
  visits.push({
    name,
    url: page.url().slice(BASE.length),
    status: response.status(),
    contentType,
    csp: headers["content-security-policy"] ?? null,
    violations,
    documentTransfer: timing.transferSize,
    documentBytes: timing.decodedBodySize,
    totalTransfer: timing.transferSize + timing.resources,
    serverMs: timing.responseStart - timing.requestStart,
    loadMs: timing.loadEventEnd,
  });
}

async function pageText(page: Page): Promise<string> {
  return page.locator("body").innerText();
}

/** The response of the navigation `action` starts (a click, a form submitted). */
async function navigation(page: Page, action: () => Promise<void>): Promise<Response> {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: "load", timeout: 30_000 }), action()]);
  if (response === null) throw new Error("the navigation had no response");
  return response;
}

// ---- sizes as pages show them ------------------------------------------------------------------

const UNITS: Record<string, number> = {
  b: 1,
  byte: 1,
  bytes: 1,
  kb: 1000,
  kib: 1024,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/**
 * Whether `text` shows `bytes` as a size: exact ("123456", "123,456 bytes") or rounded in
 * B/kB/KiB/MB/MiB/GB/GiB to the digits shown (half a unit of the last digit, either way).
 */
function showsSize(text: string, bytes: number): boolean {
  for (const match of text.matchAll(/(\d[\d,\u202f\u00a0 ]*(?:\.(\d+))?)\s*(bytes|byte|[kmg]i?b|b)?\b/gi)) {
    const digits = match[1]!.replace(/[,\u202f\u00a0 ]/g, "");
    const value = Number(digits);
    if (!Number.isFinite(value)) continue;
    const unit = UNITS[(match[3] ?? "b").toLowerCase()] ?? 1;
    const decimals = match[2]?.length ?? 0;
    const slack = unit === 1 ? 0 : (0.5 * unit) / 10 ** decimals + 1;
    if (Math.abs(value * unit - bytes) <= slack) return true;
  }
  return false;
}

// ---- fixtures ----------------------------------------------------------------------------------

let browser: Browser;
let scratch = "";
let teamA: Credentials;
let multiArchIndexDigest = "";
let multiArchSize = 0;
let childSizes: number[] = [];
let scannedDigest = "";

function jsonBlob(value: unknown): Blob {
  const bytes = Buffer.from(JSON.stringify(value), "utf8");
  return { digest: sha256(bytes), bytes };
}

/** team-a/ui-…:1.0, an OCI index over linux/amd64 and linux/arm64/v8 whose annotations hold markup. */
async function pushMultiArch(): Promise<void> {
  const dir = join(scratch, "multi-arch");
  const images = [
    { architecture: "amd64", os: "linux" },
    { architecture: "arm64", os: "linux", variant: "v8" },
  ].map((platform) =>
    buildImage({
      seed: `console-browser/${RUN}/${platform.architecture}`,
      layers: [{ size: 300 * 1024 }, { size: 40 * 1024 }],
      platform,
    }),
  );
  const index = jsonBlob({
    schemaVersion: 2,
    mediaType: MediaTypes.OCI_INDEX,
    manifests: images.map((image) => image.descriptor),
    annotations: {
      "org.opencontainers.image.title": `Title ${XSS_SCRIPT}`,
      "org.opencontainers.image.description": `Description ${XSS_SCRIPT} ${XSS_IMG}`,
    },
  });
  const top: Descriptor = { mediaType: MediaTypes.OCI_INDEX, digest: index.digest, size: index.bytes.length };
  await writeLayout(
    dir,
    [...images.flatMap((image) => [image.config, ...image.layers.map((layer) => layer.blob), image.manifest]), index],
    top,
    MULTI_ARCH_TAG,
  );
  await skopeo([
    "copy",
    "--all",
    "--preserve-digests",
    "--dest-tls-verify=false",
    ociRef(dir, MULTI_ARCH_TAG),
    dockerRef(NAMES.multiArch, MULTI_ARCH_TAG),
  ]);
  multiArchIndexDigest = index.digest;
  childSizes = images.map(
    (image) => image.config.bytes.length + image.layers.reduce((sum, layer) => sum + layer.blob.bytes.length, 0),
  );
}

/** The scanned repository (scan on push set on the repository itself) and its image. */
async function pushScanned(): Promise<void> {
  const imported = await registryFetch("POST", "/admin/advisories", {
    body: JSON.stringify({ advisories: scanAdvisories() }),
    headers: { "Content-Type": "application/json" },
  });
  if (!imported.ok) throw new Error(`importing advisories: ${imported.status} ${await imported.text()}`);
  await ecrClient().send(
    new CreateRepositoryCommand({
      repositoryName: NAMES.scanned,
      imageScanningConfiguration: { scanOnPush: true },
    }),
  );
  const layer = await gzipLayer(
    SCAN_PACKAGES.map((pkg) => ({
      path: `app/node_modules/${pkg.name}/package.json`,
      data: JSON.stringify({ name: pkg.name, version: pkg.version }),
    })),
  );
  const image = await writeImageLayout(join(scratch, "scanned"), "v1", fixtureLayers({ layers: [layer] }));
  await skopeo(["copy", "--dest-tls-verify=false", ociRef(image.path, image.tag), dockerRef(NAMES.scanned, "v1")]);
  scannedDigest = image.manifestDigest;
}

async function waitForScan(): Promise<DescribeImageScanFindingsCommandOutput> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const answer = await ecrClient()
      .send(
        new DescribeImageScanFindingsCommand({
          repositoryName: NAMES.scanned,
          imageId: { imageDigest: scannedDigest },
        }),
      )
      .catch((error: Error) => {
        if (error.name === "ScanNotFoundException") return null;
        throw error;
      });
    const status = answer?.imageScanStatus?.status;
    if (answer !== null && status !== "IN_PROGRESS" && status !== "PENDING") return answer;
    if (Date.now() > deadline) throw new Error(`the scan did not complete in 120 s (${status})\n${serverLogTail()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(async () => {
  browser = await launchChromium();
  scratch = await mkdtemp(join(inject("e2eTempDir"), "console-browser-"));
  const ecr = ecrClient();

  // The gallery: one public repository, one private, both named with this run's id.
  for (const name of [NAMES.publicRepo, NAMES.privateRepo, NAMES.teamB, NAMES.lifecycle])
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
  await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: NAMES.publicRepo, policyText: PUBLIC_PULL_POLICY }));
  await pushTinyImage(BASE, inject("adminAuthorization"), NAMES.publicRepo, "latest");
  await pushTinyImage(BASE, inject("adminAuthorization"), NAMES.privateRepo, "latest");
  await pushTinyImage(BASE, inject("adminAuthorization"), NAMES.teamB, "latest");

  // The lifecycle preview: two images, a policy keeping one (the older one expires).
  await pushTinyImage(BASE, inject("adminAuthorization"), NAMES.lifecycle, EXPIRING_TAG);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await pushTinyImage(BASE, inject("adminAuthorization"), NAMES.lifecycle, KEPT_TAG);
  await ecr.send(
    new PutLifecyclePolicyCommand({ repositoryName: NAMES.lifecycle, lifecyclePolicyText: KEEP_ONE_IMAGE }),
  );

  await pushMultiArch();
  const described = await ecr.send(
    new DescribeImagesCommand({ repositoryName: NAMES.multiArch, imageIds: [{ imageTag: MULTI_ARCH_TAG }] }),
  );
  multiArchSize = described.imageDetails?.[0]?.imageSizeInBytes ?? 0;

  teamA = await createUser(NAMES.teamAUser, {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "ecr:*", Resource: "arn:aws:ecr:*:*:repository/team-a/*" }],
  });

  await pushScanned();
}, 180_000);

afterAll(async () => {
  await closeChromium(browser);
});

/** The user's access key ids, from the admin API. */
async function accessKeyIds(user: string): Promise<string[]> {
  const response = await registryFetch("GET", `/admin/users/${user}`);
  if (!response.ok) throw new Error(`GET /admin/users/${user}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { accessKeyIds: string[] }).accessKeyIds;
}

/** A fresh context (own cookies); closed by the caller. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  return { context, page: await context.newPage() };
}

async function signedInPage(
  credentials: Credentials = adminCredentials(),
): Promise<{ context: BrowserContext; page: Page }> {
  const fresh = await freshPage();
  await signIn(fresh.page, BASE, credentials);
  return fresh;
}

function sessionCookieOf(cookies: readonly Cookie[]): Cookie | undefined {
  return cookies.find((cookie) => cookie.name.endsWith("registry-session"));
}

describe("the web UI in Chromium", () => {
  it("anonymous search finds the public repository and not the private one", async () => {
    const { context, page } = await freshPage();
    try {
      await visit(page, "/", "gallery-home");
      const search = page.locator('input[type="search"], input[name="q"]').first();
      expect(await search.count(), "the gallery has a search field").toBe(1);
      await search.fill(RUN);
      const results = await navigation(page, () => search.press("Enter"));
      await recordVisit(page, results, "gallery-search");
      expect(results.status()).toBe(200);
      const text = await pageText(page);
      expect(text, "the public repository is found").toContain(NAMES.publicRepo);
      expect(text, "the private repository is not").not.toContain(NAMES.privateRepo);
      expect(await page.locator(`a[href*="${NAMES.privateRepo}"]`).count()).toBe(0);

      const link = page.locator(`a[href$="/gallery/${NAMES.publicRepo}"]`).first();
      expect(await link.count(), `a link to /gallery/${NAMES.publicRepo}`).toBe(1);
      const opened = await navigation(page, () => link.click());
      await recordVisit(page, opened, "gallery-repository");
      expect(opened.status()).toBe(200);
      expect(await pageText(page)).toContain(NAMES.publicRepo);

      // The private repository's gallery page says no more than a name that does not exist.
      await visit(page, `/gallery/${NAMES.privateRepo}`, "gallery-private-refused", 404);
      await visit(page, `/gallery/ui-never-created-${RUN}`, "gallery-missing", 404);
    } finally {
      await context.close();
    }
  });

  it("the repository page shows the tags, sizes and platforms of a multi-arch image", async () => {
    const { context, page } = await signedInPage();
    try {
      await visit(page, "/console", "console-repositories");
      expect(await page.locator(`a[href="/console/repositories/${NAMES.multiArch}"]`).count()).toBe(1);
      await visit(page, `/console/repositories/${NAMES.multiArch}`, "console-repository-multi-arch");
      expect(multiArchSize, "DescribeImages' size of the index (its largest platform's)").toBe(Math.max(...childSizes));
      // The index's row: its tag, its size as DescribeImages gives it, and both platforms.
      const row = page.locator("main tr", { hasText: multiArchIndexDigest.slice(0, 19) });
      expect(await row.count(), `one row for ${multiArchIndexDigest}\n${await pageText(page)}`).toBe(1);
      const rowText = await row.innerText();
      expect(rowText).toContain(MULTI_ARCH_TAG);
      expect(rowText).toMatch(/linux\/amd64/);
      expect(rowText).toMatch(/linux\/arm64(\/v8)?/);
      expect(showsSize(rowText, multiArchSize), `the row shows ${multiArchSize} bytes: ${rowText}`).toBe(true);

      // The index's own page: each platform's manifest with its size.
      await visit(page, `/console/images/${NAMES.multiArch}@${multiArchIndexDigest}`, "console-image-index");
      const text = await pageText(page);
      expect(text).toContain(MULTI_ARCH_TAG);
      for (const [index, platform] of ["linux/amd64", "linux/arm64"].entries()) {
        const child = page.locator("main tr", { hasText: platform });
        expect(await child.count(), `a row for ${platform}`).toBeGreaterThan(0);
        const childText = await child.first().innerText();
        expect(
          showsSize(childText, childSizes[index]!),
          `${platform} of ${childSizes[index]} bytes: ${childText}`,
        ).toBe(true);
      }
    } finally {
      await context.close();
    }
  });

  it("a user allowed team-a/* sees only those repositories and gets a 403 page for others", async () => {
    const { context, page } = await signedInPage(teamA);
    try {
      await visit(page, "/console", "console-repositories-team-a");
      const links = await page.locator('main a[href^="/console/repositories/"]').all();
      const hrefs = await Promise.all(links.map(async (link) => (await link.getAttribute("href")) ?? ""));
      const names = hrefs.map((href) => decodeURIComponent(href.slice("/console/repositories/".length)));
      expect(names).toContain(NAMES.multiArch);
      expect(
        names.filter((name) => !name.startsWith("team-a/")),
        "only team-a/* is listed",
      ).toEqual([]);
      const text = await pageText(page);
      for (const other of [NAMES.teamB, NAMES.publicRepo, NAMES.privateRepo, NAMES.scanned])
        expect(text).not.toContain(other);

      await visit(page, `/console/repositories/${NAMES.multiArch}`, "console-repository-as-team-a");
      await visit(page, `/console/repositories/${NAMES.teamB}`, "console-forbidden-team-b", 403);
      expect(await pageText(page)).toMatch(/not allow/i);
      expect(await pageText(page)).not.toContain("latest");
      await visit(page, `/console/repositories/${NAMES.privateRepo}`, "console-forbidden-private", 403);
      await visit(
        page,
        `/console/scans?repository=${encodeURIComponent(NAMES.scanned)}&digest=${encodeURIComponent(scannedDigest)}`,
        "console-scans-forbidden",
        403,
      );
    } finally {
      await context.close();
    }
  });

  it("a scanned image's findings are shown with the counts DescribeImageScanFindings gives", async () => {
    const api = await waitForScan();
    expect(api.imageScanStatus?.status, serverLogTail()).toBe("COMPLETE");
    const apiCounts = api.imageScanFindings?.findingSeverityCounts ?? {};
    expect(apiCounts).toEqual({ CRITICAL: 1, HIGH: 2, MEDIUM: 1, LOW: 1 });

    const { context, page } = await signedInPage();
    try {
      await visit(
        page,
        `/console/scans?repository=${encodeURIComponent(NAMES.scanned)}&digest=${encodeURIComponent(scannedDigest)}`,
        "console-scan-findings",
      );
      const counts = page.locator(".counts");
      const countsText = (await counts.count()) > 0 ? await counts.first().innerText() : await pageText(page);
      const shown: Record<string, number> = {};
      for (const severity of SEVERITIES) {
        const after = new RegExp(`\\b${severity}\\b\\W{0,3}(\\d+)`, "i").exec(countsText);
        const before = new RegExp(`(\\d+)\\W{0,3}${severity}\\b`, "i").exec(countsText);
        const value = after?.[1] ?? before?.[1];
        if (value !== undefined && Number(value) > 0) shown[severity] = Number(value);
      }
      expect(shown, `the counts shown:\n${countsText}`).toEqual(apiCounts);
      const text = await pageText(page);
      const findings = api.imageScanFindings?.findings ?? [];
      for (const finding of findings) expect(text, "each finding's name").toContain(finding.name);
      for (const pkg of SCAN_PACKAGES) expect(text, "each finding's package").toContain(pkg.name);
      const rows = page.locator("main table tbody tr");
      expect(await rows.count(), "one row per finding").toBe(findings.length);
    } finally {
      await context.close();
    }
  });

  it("the lifecycle preview is shown", async () => {
    const { context, page } = await signedInPage();
    try {
      await visit(page, `/console/lifecycle?repository=${encodeURIComponent(NAMES.lifecycle)}`, "console-lifecycle");
      // The preview may need a button (a POST with the CSRF token); press it when there is one.
      const preview = page.locator("main button", { hasText: /preview/i });
      if ((await preview.count()) > 0) {
        const shown = await navigation(page, () => preview.first().click());
        await recordVisit(page, shown, "console-lifecycle-preview");
        expect(shown.status()).toBe(200);
      }
      const text = await pageText(page);
      expect(text).toMatch(/preview/i);
      expect(text).toMatch(/expire/i);
      // The policy keeps the newest image: the older one is listed, the kept one nowhere.
      expect(await page.locator("main tr", { hasText: EXPIRING_TAG }).count(), "a row for the expiring image").toBe(1);
      expect(text, "the kept image is not listed").not.toContain(KEPT_TAG);
    } finally {
      await context.close();
    }
  });

  it("the other console pages render for the admin", async () => {
    const { context, page } = await signedInPage();
    try {
      await visit(page, "/console/users", "console-users");
      expect(await pageText(page)).toContain(NAMES.teamAUser);
      await visit(page, "/console/audit", "console-audit");
      await visit(page, "/console/pull-through", "console-pull-through");
      await visit(
        page,
        `/console/replication?repository=${encodeURIComponent(NAMES.multiArch)}&digest=${encodeURIComponent(multiArchIndexDigest)}`,
        "console-replication",
      );
      await visit(page, `/console/images/${NAMES.multiArch}@${multiArchIndexDigest}`, "console-image-index");
    } finally {
      await context.close();
    }
    const { context: anonymous, page: signInPage } = await freshPage();
    try {
      const response = await visit(signInPage, "/console", "console-sign-in");
      expect(new URL(signInPage.url()).pathname).toBe("/console/sign-in");
      expect(response.status()).toBe(200);
    } finally {
      await anonymous.close();
    }
  });

  it("signing out invalidates the session: the old cookie leads back to the sign-in page", async () => {
    const { context, page } = await signedInPage();
    try {
      const cookie = sessionCookieOf(await context.cookies(BASE));
      expect(cookie, "a session cookie after signing in").toBeDefined();
      await visit(page, "/console", "console-before-sign-out");
      const signOut = page.locator('header form[action="/console/sign-out"] [type="submit"]');
      expect(await signOut.count()).toBe(1);
      const after = await navigation(page, () => signOut.click());
      expect(after.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe("/");
      expect(sessionCookieOf(await context.cookies(BASE)), "the cookie is cleared").toBeUndefined();

      // The old cookie, set again in a fresh context, opens nothing.
      const { context: replay, page: replayPage } = await freshPage();
      try {
        await replay.addCookies([cookie!]);
        await replayPage.goto(`${BASE}/console`);
        expect(new URL(replayPage.url()).pathname).toBe("/console/sign-in");
      } finally {
        await replay.close();
      }
      // And to a plain HTTP client neither.
      const replayed = await fetch(`${BASE}/console`, {
        headers: { Cookie: `${cookie!.name}=${cookie!.value}` },
        redirect: "manual",
      });
      expect(replayed.status).toBe(303);
      expect(replayed.headers.get("Location")).toMatch(/^\/console\/sign-in/);
    } finally {
      await context.close();
    }
  });
});

describe("attacks on the web UI", () => {
  it("markup in an annotation and in catalog text is shown as text, never run", async () => {
    const catalog = await send(
      await signed({
        action: "PutRepositoryCatalogData",
        service: "ecr-public",
        extraHeaders: { "x-amz-target": "SpencerFrontendService.PutRepositoryCatalogData" },
        body: JSON.stringify({
          repositoryName: NAMES.publicRepo,
          catalogData: {
            description: `Gallery fixture ${RUN} ${XSS_SCRIPT}`,
            aboutText: `# About\n\n${XSS_SCRIPT}\n\n${XSS_IMG}\n\n[click](javascript:alert(1))`,
            usageText: `Usage ${XSS_SCRIPT}`,
          },
        }),
      }),
    );
    expect(catalog.status, JSON.stringify(catalog.body)).toBe(200);

    const dialogs: string[] = [];
    const { context, page } = await signedInPage();
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    try {
      const imagePage = `/console/images/${NAMES.multiArch}@${multiArchIndexDigest}`;
      const pages: [string, string][] = [
        [`/gallery/${NAMES.publicRepo}`, "xss-gallery-repository"],
        [`/?q=${RUN}`, "xss-gallery-search"],
        [`/console/repositories/${NAMES.multiArch}`, "xss-console-repository"],
        [imagePage, "xss-console-image"],
      ];
      for (const [path, name] of pages) {
        await visit(page, path, name);
        expect(await page.locator("script").count(), `no script element on ${path}`).toBe(0);
        expect(await page.title(), `nothing ran on ${path}`).not.toMatch(new RegExp(`^pwned(-img)?-${RUN}$`));
        expect(await page.locator('img[src="x"]').count(), `no injected img on ${path}`).toBe(0);
        expect(await page.locator('a[href^="javascript:"]').count(), `no javascript: link on ${path}`).toBe(0);
      }
      // The markup is there, as text a reader sees: the catalog's description and Markdown...
      await visit(page, `/gallery/${NAMES.publicRepo}`, "xss-gallery-repository");
      expect(await page.getByText(XSS_SCRIPT).first().isVisible(), "catalog text with <script> shown").toBe(true);
      expect(await page.getByText(XSS_IMG).first().isVisible(), "Markdown with <img onerror> shown").toBe(true);
      await visit(page, `/?q=${RUN}`, "xss-gallery-search");
      expect(await pageText(page), "the description in the search results").toContain(XSS_SCRIPT);
      // ...and the index's annotations on its image page.
      await visit(page, imagePage, "xss-console-image");
      expect(await pageText(page), "the index's annotation, as text").toContain(`Description ${XSS_SCRIPT} ${XSS_IMG}`);
      expect(await page.getByText(`Title ${XSS_SCRIPT}`).first().isVisible()).toBe(true);
      expect(dialogs).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a cross-site form post without the CSRF token is refused", async () => {
    const { context, page } = await signedInPage();
    // The attacker's pages: each posts a console form as soon as it loads, without the token.
    const targets: Record<string, string> = {
      "/sign-out": "/console/sign-out",
      "/new-key": `/console/users/${NAMES.teamAUser}/access-keys`,
    };
    const attacker: Server = createServer((request, response) => {
      const target = targets[request.url ?? ""] ?? "/console/sign-out";
      response.setHeader("Content-Type", "text/html; charset=utf-8");
      response.end(
        `<!doctype html><html lang="en"><title>attacker</title><body>` +
          `<form id="f" method="post" action="${BASE}${target}"><input type="hidden" name="x" value="1"></form>` +
          `<script>document.getElementById("f").submit()</script></body></html>`,
      );
    });
    await new Promise<void>((resolve) => attacker.listen(0, resolve));
    const port = (attacker.address() as { port: number }).port;
    const stillSignedIn = async (why: string) => {
      const probe = await context.newPage();
      try {
        await probe.goto(`${BASE}/console`);
        expect(new URL(probe.url()).pathname, why).toBe("/console");
      } finally {
        await probe.close();
      }
    };
    try {
      await visit(page, "/console", "csrf-victim-console");
      // From another site (localhost is not 127.0.0.1) and from the same site on another port
      // (cross-origin: SameSite lets the cookie go, the Origin check must refuse it).
      const keysBefore = await accessKeyIds(NAMES.teamAUser);
      for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
        for (const [path, target] of Object.entries(targets)) {
          const posted = page.waitForResponse(
            (response) => response.url() === `${BASE}${target}` && response.request().method() === "POST",
            { timeout: 30_000 },
          );
          await page.goto(`${origin}${path}`);
          const answer = await posted;
          await page.waitForLoadState("load");
          expect(answer.status(), `${target} posted from ${origin}`).not.toBe(200);
          await stillSignedIn(`the session survives ${target} posted from ${origin}`);
        }
      }
      expect(await accessKeyIds(NAMES.teamAUser), "no access key was made by the forged posts").toEqual(keysBefore);

      // The same, by hand: the right cookie, but no or another site's form.
      const cookie = sessionCookieOf(await context.cookies(BASE))!;
      await page.goto(`${BASE}/console`);
      const token = await page.locator('input[name="_csrf"]').first().getAttribute("value");
      expect(token).toBeTruthy();
      const post = (body: string, origin: string) =>
        fetch(`${BASE}/console/sign-out`, {
          method: "POST",
          redirect: "manual",
          body,
          headers: {
            Cookie: `${cookie.name}=${cookie.value}`,
            Origin: origin,
            "Content-Type": "application/x-www-form-urlencoded",
          },
        });
      expect((await post("", BASE)).status, "no token").toBe(403);
      expect((await post("_csrf=not-the-token", BASE)).status, "a wrong token").toBe(403);
      expect(
        (await post(`_csrf=${encodeURIComponent(token!)}`, "https://evil.example")).status,
        "the right token from a foreign Origin",
      ).toBe(403);
      await stillSignedIn("the session survives refused sign-outs");
    } finally {
      await context.close();
      await new Promise((resolve) => attacker.close(resolve));
    }
  });

  it("the session cookie is HttpOnly and SameSite=Strict: script cannot read it", async () => {
    const { context, page } = await signedInPage();
    try {
      const cookie = sessionCookieOf(await context.cookies(BASE));
      expect(cookie).toBeDefined();
      expect(cookie!.httpOnly).toBe(true);
      expect(cookie!.sameSite).toBe("Strict");
      expect(cookie!.path).toBe("/");
      const readable = await page.evaluate<string>("document.cookie");
      expect(readable).not.toContain(cookie!.value);
      expect(readable).not.toContain("registry-session");
    } finally {
      await context.close();
    }
  });

  it("the sign-in form refuses a post from another site", async () => {
    const response = await fetch(`${BASE}/console/sign-in`, {
      method: "POST",
      redirect: "manual",
      body: new URLSearchParams({ ...adminCredentials() }).toString(),
      headers: { Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("Set-Cookie")).toBeNull();
  });
});

describe("every page visited", () => {
  it("carries a Content-Security-Policy header", () => {
    expect(visits.length).toBeGreaterThan(10);
    const missing = visits.filter((v) => v.csp === null).map((v) => `${v.name} ${v.url} (${v.status})`);
    expect(missing, "pages without a CSP").toEqual([]);
    const weak = visits
      .filter((v) => v.csp !== null && !/default-src 'none'|script-src 'none'/.test(v.csp))
      .map((v) => `${v.name}: ${v.csp}`);
    expect(weak, "a CSP that forbids script").toEqual([]);
  });

  it("has no serious or critical axe violation", () => {
    const failing = visits.filter((v) => v.violations.length > 0);
    const notHtml = visits
      .filter((v) => !v.contentType.startsWith("text/html"))
      .map((v) => `not an HTML page, not checked: ${v.name} ${v.url} (${v.status} ${v.contentType})`);
    expect(
      [...failing.map((v) => describeViolations(`${v.name} (${v.url})`, v.violations)), ...notHtml].join("\n"),
    ).toBe("");
  });

  it("is kept as a screenshot; its weight and time are printed", () => {
    for (const name of [
      "gallery-home",
      "gallery-search",
      "gallery-repository",
      "console-sign-in",
      "console-repositories",
      "console-repository-multi-arch",
      "console-scan-findings",
      "console-lifecycle",
      "console-users",
      "console-audit",
      "console-image-index",
    ])
      expect(existsSync(join(SCREENSHOT_DIR, `${name}.png`)), `${name}.png`).toBe(true);
    const rows = visits.map(
      (v) =>
        `| ${v.name} | ${v.url.length > 60 ? `${v.url.slice(0, 57)}...` : v.url} | ${v.status} | ${v.documentBytes} | ${v.documentTransfer} | ${v.totalTransfer} | ${v.serverMs.toFixed(1)} | ${v.loadMs.toFixed(1)} |`,
    );
    console.log(
      [
        `[console-browser] ${visits.length} page loads; screenshots in ${SCREENSHOT_DIR}`,
        "| page | path | status | document bytes | document transfer | total transfer | server ms | load ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ...rows,
      ].join("\n"),
    );
  });
});
