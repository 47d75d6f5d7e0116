/**
 * GET /console/scans?repository=<name>&digest=<digest>: an image's basic scan, as
 * DescribeImageScanFindings reads it (`ecr:DescribeImageScanFindings`): its status, the
 * severity counts (the same stored `findingSeverityCounts`), and the findings most severe
 * first, filtered by severity and package with GET parameters (`severity`, `package`, `page`).
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { SEVERITIES } from "../../scanning/findings";
import type { Database } from "../../storage/database";
import { findImageRows } from "../../storage/image-records";
import { findImageScan, listScanFindings, type StoredFinding } from "../../storage/scan-records";
import { notFoundPage } from "../auth-pages";
import { pageHtml } from "../layout";
import { ConsoleNav } from "./console-nav";
import {
  badRequestPage,
  ExternalLink,
  ImageLine,
  queryDigest,
  queryPage,
  queryText,
  repositoryGate,
  When,
  withQuery,
} from "./registry-shared";

export const scanPages = new Hono<AppEnv>();

const PAGE_SIZE = 100;
/**
 * How many findings a filtered page reads at most, FILTER_BATCH at a time (the stored query
 * has no filter); an image with more says so under its table.
 */
const MAX_FILTERED = 5000;
const FILTER_BATCH = 1000;

interface FindingFilter {
  severity: string | undefined;
  packageText: string | undefined;
}

function matches(finding: StoredFinding, filter: FindingFilter): boolean {
  if (filter.severity !== undefined && finding.severity !== filter.severity) return false;
  return (
    filter.packageText === undefined || finding.packageName.toLowerCase().includes(filter.packageText.toLowerCase())
  );
}

/** One page of findings (most severe first) and whether more follow; `truncated` when a filter stopped reading. */
async function findingsPage(
  db: Database,
  name: string,
  digest: string,
  filter: FindingFilter,
  page: number,
): Promise<{ findings: StoredFinding[]; more: boolean; truncated: boolean }> {
  const offset = (page - 1) * PAGE_SIZE;
  if (filter.severity === undefined && filter.packageText === undefined) {
    const rows = await listScanFindings(db, name, digest, offset, PAGE_SIZE + 1);
    return { findings: rows.slice(0, PAGE_SIZE), more: rows.length > PAGE_SIZE, truncated: false };
  }
  const matched: StoredFinding[] = [];
  let read = 0;
  for (;;) {
    const batch = await listScanFindings(db, name, digest, read, FILTER_BATCH);
    read += batch.length;
    matched.push(...batch.filter((finding) => matches(finding, filter)));
    if (batch.length < FILTER_BATCH) break;
    if (read >= MAX_FILTERED || matched.length > offset + PAGE_SIZE)
      return { findings: matched.slice(offset, offset + PAGE_SIZE), more: true, truncated: read >= MAX_FILTERED };
  }
  return {
    findings: matched.slice(offset, offset + PAGE_SIZE),
    more: matched.length > offset + PAGE_SIZE,
    truncated: false,
  };
}

/** Severities in ECR's order, then any other the counts hold. */
function orderedCounts(counts: Record<string, number>): [string, number][] {
  const known = SEVERITIES.filter((severity) => counts[severity] !== undefined).map((severity): [string, number] => [
    severity,
    counts[severity] ?? 0,
  ]);
  const others = Object.entries(counts).filter(([severity]) => !(SEVERITIES as readonly string[]).includes(severity));
  return [...known, ...others];
}

scanPages.get("/console/scans", async (c) => {
  const gate = await repositoryGate(c, "ecr:DescribeImageScanFindings", "read the scan findings");
  if (gate instanceof Response) return gate;
  const { session, name, row } = gate;
  const digest = queryDigest(c);
  if (digest === null) return badRequestPage(c, session, "Give the image's digest (?digest=sha256:...).");
  if (row === undefined) return notFoundPage(c, session, `Repository ${name}`);
  const db = c.get("db");
  const [images, scan] = await Promise.all([findImageRows(db, name, [digest]), findImageScan(db, name, digest)]);
  const image = images.get(digest);
  if (image === undefined) return notFoundPage(c, session, `Image ${digest} in ${name}`);
  if (scan === undefined) return notFoundPage(c, session, `A scan of image ${digest} in ${name}`);

  const severityText = queryText(c, "severity")?.toUpperCase();
  const filter: FindingFilter = {
    severity: (SEVERITIES as readonly string[]).includes(severityText ?? "") ? severityText : undefined,
    packageText: queryText(c, "package"),
  };
  const page = queryPage(c);
  // Counts and findings exist once the scan is COMPLETE (DescribeImageScanFindings' summary too).
  const complete = scan.status === "COMPLETE" && scan.completedAt !== null;
  const result = complete ? await findingsPage(db, name, digest, filter, page) : null;
  const here = { repository: name, digest, severity: filter.severity, package: filter.packageText };
  const counts = orderedCounts(scan.severityCounts ?? {});

  return c.html(
    pageHtml({
      title: `Scan of ${name}`,
      session,
      children: (
        <>
          <ConsoleNav />
          <ImageLine name={name} digest={digest} tags={image.tags}>
            <a href={withQuery("/console/replication", { repository: name, digest })}>Replication status</a>
            {" · "}
            <a href={withQuery("/console/lifecycle", { repository: name })}>Lifecycle policy</a>
          </ImageLine>
          <h2>Status</h2>
          <p>
            <span class="badge" data-status={scan.status}>
              {scan.status}
            </span>{" "}
            {scan.description ?? ""}
          </p>
          <p class="muted">
            Started <When at={scan.startedAt} />; completed <When at={scan.completedAt} />; advisories updated{" "}
            <When at={scan.sourceUpdatedAt} />.
          </p>
          {result === null ? null : (
            <>
              <h2>Severity counts</h2>
              {counts.length === 0 ? (
                <p>No findings.</p>
              ) : (
                <ul class="counts">
                  {counts.map(([severity, count]) => (
                    <li data-severity={severity}>
                      <span class={`sev-${severity}`}>{severity}</span> <strong class="count">{count}</strong>
                    </li>
                  ))}
                </ul>
              )}
              <h2>Findings</h2>
              <form method="get" action="/console/scans" class="filters">
                <input type="hidden" name="repository" value={name} />
                <input type="hidden" name="digest" value={digest} />
                <div>
                  <label for="severity">Severity</label>
                  <select id="severity" name="severity">
                    <option value="">All</option>
                    {SEVERITIES.map((severity) => (
                      <option value={severity} selected={severity === filter.severity}>
                        {severity}
                      </option>
                    ))}
                  </select>
                </div>
                <div>
                  <label for="package">Package</label>
                  <input type="search" id="package" name="package" value={filter.packageText ?? ""} />
                </div>
                <div>
                  <button type="submit">Filter</button>{" "}
                  <a href={withQuery("/console/scans", { repository: name, digest })}>Clear</a>
                </div>
              </form>
              <FindingsTable findings={result.findings} />
              {result.truncated ? (
                <p class="muted">{`Only the first ${MAX_FILTERED} findings were searched.`}</p>
              ) : null}
              <p class="pager">
                {page > 1 ? <a href={withQuery("/console/scans", { ...here, page: page - 1 })}>Previous</a> : null}{" "}
                {result.more ? <a href={withQuery("/console/scans", { ...here, page: page + 1 })}>Next</a> : null}
              </p>
            </>
          )}
        </>
      ),
    }),
  );
});

function FindingsTable(props: { findings: StoredFinding[] }) {
  if (props.findings.length === 0) return <p>No finding matches.</p>;
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">Name</th>
            <th scope="col">Package</th>
            <th scope="col">Version</th>
            <th scope="col">Fixed in</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {props.findings.map((finding) => (
            <tr class="finding">
              <td class={`sev-${finding.severity}`}>{finding.severity}</td>
              <td>
                <code>{finding.advisoryId}</code>
                {finding.description === null ? null : <div class="muted">{finding.description.slice(0, 300)}</div>}
              </td>
              <td>
                <code>{finding.packageName}</code>
              </td>
              <td>
                <code>{finding.packageVersion}</code>
              </td>
              <td>
                {finding.fixedVersion === null ? <span class="muted">none</span> : <code>{finding.fixedVersion}</code>}
              </td>
              <td>
                <ExternalLink href={finding.uri}>Advisory</ExternalLink>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
