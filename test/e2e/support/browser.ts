/**
 * A real browser for the web UI's tests: Debian's Chromium (/usr/bin/chromium) driven by
 * playwright-core (which never downloads a browser), axe-core's accessibility rules run inside
 * the page (@axe-core/playwright), full-page screenshots kept as test artifacts, and signing in
 * through the console's own form.
 *
 * Chromium is required: without it launchChromium() fails the test file (it never skips), saying
 * how to install it (.ci/run does).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * The flags that work on these machines (headless, as root, on a closed network): without the
 * background-networking ones Chromium keeps trying to reach Google's hosts. playwright's launch
 * gives every browser a fresh, empty --user-data-dir of its own.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where screenshots go (test/.tmp is git-ignored; CI keeps the directory as an artifact). */
export const SCREENSHOT_DIR = resolve(import.meta.dirname, "../../.tmp/screenshots");

/** Starts Chromium; fails (never skips) when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `${CHROMIUM_PATH} is missing, and the browser tests need it. Install Debian's Chromium: ` +
        "`apt-get install -y --no-install-recommends chromium` (.ci/run does this).",
    );
  try {
    return await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 60_000,
    });
  } catch (error) {
    throw new Error(`could not start ${CHROMIUM_PATH}: ${(error as Error).message}`, { cause: error });
  }
}

/** Closes the browser (and every context and page of it); a browser already gone is fine. */
export async function closeChromium(browser: Browser | undefined): Promise<void> {
  if (browser === undefined) return;
  await browser.close().catch(() => undefined);
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  helpUrl: string;
  /** Each offending node: its CSS selector and the start of its HTML. */
  nodes: string[];
}

/**
 * Runs axe-core (every rule of its default set: WCAG 2.x A and AA and best practices) on the page
 * as it is now, and returns the violations of impact serious or critical.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? "unknown",
      help: violation.help,
      helpUrl: violation.helpUrl,
      nodes: violation.nodes.map((node) => `${node.target.join(" ")}: ${node.html.slice(0, 160)}`),
    }));
}

/** A readable list of violations, for an assertion's message. */
export function describeViolations(url: string, violations: readonly AxeViolation[]): string {
  return [
    `axe: ${violations.length} serious or critical violation(s) on ${url}`,
    ...violations.map(
      (violation) =>
        `- [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})\n    ${violation.nodes.join("\n    ")}`,
    ),
  ].join("\n");
}

/** Saves a full-page screenshot as SCREENSHOT_DIR/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, "_")}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface SignInCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Signs in through the console's form at `/console/sign-in` (fields accessKeyId and
 * secretAccessKey) and waits for the page it leads to; fails when it stays on the sign-in page.
 */
export async function signIn(page: Page, baseUrl: string, credentials: SignInCredentials): Promise<void> {
  await page.goto(`${baseUrl}/console/sign-in`);
  await page.locator('input[name="accessKeyId"]').fill(credentials.accessKeyId);
  await page.locator('input[name="secretAccessKey"]').fill(credentials.secretAccessKey);
  await Promise.all([
    page
      .waitForURL((url) => url.pathname !== "/console/sign-in", { timeout: 30_000, waitUntil: "load" })
      .catch(() => undefined),
    page.locator('form:has(input[name="accessKeyId"]) [type="submit"]').click(),
  ]);
  const landed = new URL(page.url());
  if (landed.pathname === "/console/sign-in") {
    const error = (await page.locator(".error, [role=alert]").allInnerTexts()).join(" ");
    throw new Error(
      `signing in as ${credentials.accessKeyId} failed: still on the sign-in page (${error || "no error shown"})`,
    );
  }
}
