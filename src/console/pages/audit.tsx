/**
 * GET /console/audit: the audit trail (`cloudtrail:LookupEvents` on `*`, as GET
 * /admin/audit-events asks), newest first, filtered by principal, event name, repository and
 * result with GET parameters, in pages (`nextToken`, the last id shown). Each record opens to
 * its CloudTrail shape (src/audit/record.ts). This isolate's aggregated pulls are written
 * first, so the page shows them.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { flushAggregated } from "../../audit/aggregates";
import type { TrailContext } from "../../audit/record";
import { queryAuditRecords, type StoredAuditRow } from "../../storage/audit-records";
import { pageHtml } from "../layout";
import { ConsoleNav } from "./console-nav";
import { badRequestPage, queryText, registryGate, When, withQuery } from "./registry-shared";

export const auditPages = new Hono<AppEnv>();

const PAGE_SIZE = 20;

/** The filters of the page, by GET parameter (the admin API's names). */
const FILTERS = [
  { name: "principal", label: "Principal (ARN, or anonymous)" },
  { name: "eventName", label: "Event name" },
  { name: "repository", label: "Repository" },
  { name: "result", label: "Result (success, error, or an error code)" },
] as const;

type FilterName = (typeof FILTERS)[number]["name"];

auditPages.get("/console/audit", async (c) => {
  const session = await registryGate(c, "cloudtrail:LookupEvents", "look up the audit trail");
  if (session instanceof Response) return session;
  const token = c.req.query("nextToken");
  if (token !== undefined && token !== "" && !/^[1-9]\d{0,15}$/.test(token))
    return badRequestPage(c, session, "nextToken is not a token this page gave.");
  const filters: Record<FilterName, string | undefined> = {
    principal: queryText(c, "principal"),
    eventName: queryText(c, "eventName"),
    repository: queryText(c, "repository"),
    result: queryText(c, "result"),
  };
  const db = c.get("db");
  // A failed flush keeps its counts for the next one; the page still shows what is stored.
  await flushAggregated(db).catch((error: unknown) => console.error("audit aggregates: write failed", error));
  const rows = await queryAuditRecords(db, {
    actor: filters.principal,
    action: filters.eventName,
    repository: filters.repository,
    result: filters.result,
    beforeId: token === undefined || token === "" ? undefined : Number(token),
    limit: PAGE_SIZE + 1,
  });
  const page = rows.slice(0, PAGE_SIZE);
  const last = page.at(-1);
  const next = rows.length > PAGE_SIZE && last !== undefined ? String(last.id) : undefined;
  const trail: TrailContext = { accountId: c.var.settings.auth.accountId, region: c.var.settings.auth.region };
  const filtered = Object.values(filters).some((value) => value !== undefined);
  return c.html(
    pageHtml({
      title: "Audit trail",
      session,
      children: (
        <>
          <ConsoleNav current="/console/audit" />
          <form method="get" action="/console/audit" class="filters">
            {FILTERS.map((filter) => (
              <div>
                <label for={`filter-${filter.name}`}>{filter.label}</label>
                <input
                  type="text"
                  id={`filter-${filter.name}`}
                  name={filter.name}
                  value={filters[filter.name] ?? ""}
                  maxlength={1024}
                />
              </div>
            ))}
            <div>
              <button type="submit">Filter</button> {filtered ? <a href="/console/audit">Clear</a> : null}
            </div>
          </form>
          {page.length === 0 ? <p>No record matches.</p> : <AuditTable rows={page} trail={trail} />}
          <p class="pager">
            {token === undefined || token === "" ? null : <a href={withQuery("/console/audit", filters)}>Newest</a>}{" "}
            {next === undefined ? null : (
              <a href={withQuery("/console/audit", { ...filters, nextToken: next })}>Older</a>
            )}
          </p>
        </>
      ),
    }),
  );
});

/**
 * Parameters shown per record: the whole record (CloudTrail's shape, about 1.5 KB, 3.5 KB once
 * escaped as HTML) is the admin API's; the page keeps what the table does not show, cut short.
 */
const SHOWN_PARAMETERS = 300;

function RecordDetails(props: { row: StoredAuditRow }) {
  const { row } = props;
  const parameters = row.requestParameters === null ? "" : JSON.stringify(row.requestParameters);
  return (
    <dl class="record">
      <dt>Event ID</dt>
      <dd class="event-id">{row.eventId ?? `audit-${row.id}`}</dd>
      {row.requestId === null ? null : (
        <>
          <dt>Request ID</dt>
          <dd>{row.requestId}</dd>
        </>
      )}
      {row.userAgent === null ? null : (
        <>
          <dt>User agent</dt>
          <dd>{row.userAgent}</dd>
        </>
      )}
      {parameters === "" ? null : (
        <>
          <dt>Parameters</dt>
          <dd>
            <code>
              {parameters.length > SHOWN_PARAMETERS ? `${parameters.slice(0, SHOWN_PARAMETERS)}…` : parameters}
            </code>
          </dd>
        </>
      )}
      {row.errorMessage === null ? null : (
        <>
          <dt>Error</dt>
          <dd>{row.errorMessage}</dd>
        </>
      )}
    </dl>
  );
}

function AuditTable(props: { rows: StoredAuditRow[]; trail: TrailContext }) {
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Principal</th>
            <th scope="col">Source IP</th>
            <th scope="col">Repository</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr class="audit-record" data-id={row.id}>
              <td>
                <When at={row.at} />
              </td>
              <td>
                <code>{row.action}</code>
                {row.calls > 1 ? <span class="muted">{` ×${row.calls}`}</span> : null}
                <details>
                  <summary>Record</summary>
                  <RecordDetails row={row} />
                </details>
              </td>
              <td>
                <code>{row.actor}</code>
                {row.accessKeyId === null ? null : <div class="muted">{`key ${row.accessKeyId}`}</div>}
              </td>
              <td>{row.sourceIp ?? ""}</td>
              <td>{row.repository ?? ""}</td>
              <td class={row.errorCode === null ? undefined : "error"}>{row.errorCode ?? "success"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
