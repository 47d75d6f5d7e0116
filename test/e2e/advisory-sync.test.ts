/**
 * The advisories job against an OSV folder served on 127.0.0.1 (never the internet), as
 * OSV.dev serves one per ecosystem: `modified_id.csv` (newest first) and `<id>.json`. The
 * registry is started with ADVISORY_SOURCES naming it; each run fetches only what is newer than
 * the last one saw, and a record that changes is imported again.
 */
import { createServer, type Server } from "node:http";
import { mkdir, mkdtemp } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ADVISORIES } from "../support/scan-fixtures";
import { startRegistryProcess, type RegistryProcess } from "./support/registry-process";

/** The folder's records, by id, with the `modified` each is served with. */
const served = new Map<string, Record<string, unknown>>();
const requests: string[] = [];
let server: Server;
let registry: RegistryProcess;
let folder: string;

function csv(): string {
  return [...served.values()]
    .sort((a, b) => String(b.modified).localeCompare(String(a.modified)))
    .map((record) => `${String(record.modified)},${String(record.id)}`)
    .join("\n");
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    requests.push(path);
    if (path === "/osv/npm/modified_id.csv") {
      response.writeHead(200, { "Content-Type": "text/csv" }).end(csv());
      return;
    }
    const record = served.get(path.replace(/^\/osv\/npm\//, "").replace(/\.json$/, ""));
    if (record === undefined) response.writeHead(404).end();
    else response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(record));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  folder = `http://127.0.0.1:${(server.address() as AddressInfo).port}/osv/npm`;
  const scratch = await mkdtemp(join(inject("e2eTempDir"), "advisory-sync-"));
  await mkdir(join(scratch, "state"));
  registry = await startRegistryProcess(join(scratch, "state"), join(scratch, "registry.log"), {
    // The cron would run the job on its own; the test runs it when it wants.
    env: { ADVISORY_SOURCES: folder, REGISTRY_CRON_INTERVAL_SECONDS: "86400" },
  });
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

async function runJob(): Promise<{ summary: string; report: { sources: { fetched: number; imported: number }[] } }> {
  const response = await fetch(`${registry.url}/admin/jobs/run?job=advisories`, {
    method: "POST",
    headers: { Authorization: registry.adminAuthorization },
  });
  expect(response.status, await response.clone().text()).toBe(200);
  const { jobs } = (await response.json()) as { jobs: { ok: boolean; summary: string; report: never }[] };
  expect(jobs[0]!.ok, jobs[0]!.summary).toBe(true);
  return jobs[0]!;
}

async function status(): Promise<{ advisories: number }> {
  const response = await fetch(`${registry.url}/admin/advisories`, {
    headers: { Authorization: registry.adminAuthorization },
  });
  return (await response.json()) as { advisories: number };
}

describe("the advisories job", () => {
  it("imports a folder's records, then only what changed since", async () => {
    const npm = ADVISORIES.filter(
      (record) => (record.affected as { package: { ecosystem: string } }[])[0]!.package.ecosystem === "npm",
    );
    expect(npm.length).toBeGreaterThanOrEqual(3);
    for (const [index, record] of npm.entries())
      served.set(String(record.id), { ...record, modified: `2024-01-0${index + 1}T00:00:00Z` });

    const first = await runJob();
    expect(first.report.sources).toMatchObject([{ fetched: npm.length, imported: npm.length }]);
    expect((await status()).advisories).toBe(npm.length);

    // Nothing new: the listing is read, and only the record at the cursor's own time fetched again.
    requests.length = 0;
    const second = await runJob();
    expect(second.report.sources).toMatchObject([{ fetched: 1, imported: 0 }]);
    expect(requests.filter((path) => path.endsWith(".json"))).toHaveLength(1);

    // One record changes: it is fetched and imported again.
    const changed = npm[0]!;
    served.set(String(changed.id), { ...changed, modified: "2024-06-01T00:00:00Z", summary: "updated" });
    const third = await runJob();
    expect(third.report.sources).toMatchObject([{ imported: 1 }]);
    expect((await status()).advisories).toBe(npm.length);
  });
});
