/**
 * GET /console/replication?repository=<name>&digest=<digest>: an image's replication to each
 * destination, as DescribeImageReplicationStatus reports it (`ecr:DescribeImageReplicationStatus`:
 * the newest push's status per destination), with the last failure of one still being retried;
 * and, for who may `ecr:DescribeRegistry` (the admin API's GET /admin/replication), the
 * registry's backlog per destination on asking (`&backlog=1`): one grouped query, but over
 * every replication item ever recorded, so not on each view.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { findImageRows } from "../../storage/image-records";
import {
  findReplicationStatuses,
  replicationBacklog,
  type ReplicationBacklog,
  type ReplicationStatusRow,
} from "../../storage/replication-records";
import { notFoundPage } from "../auth-pages";
import { pageHtml } from "../layout";
import { ConsoleNav } from "./console-nav";
import {
  allowedOnRegistry,
  badRequestPage,
  ImageLine,
  queryDigest,
  repositoryGate,
  When,
  withQuery,
} from "./registry-shared";

export const replicationPages = new Hono<AppEnv>();

/** One status per destination, the newest push's (rows come in the order the work was recorded). */
function newestPerDestination(rows: readonly ReplicationStatusRow[]): ReplicationStatusRow[] {
  const latest = new Map<string, ReplicationStatusRow>();
  for (const row of rows) latest.set(`${row.registryId}/${row.region}`, row);
  return [...latest.values()];
}

replicationPages.get("/console/replication", async (c) => {
  const gate = await repositoryGate(c, "ecr:DescribeImageReplicationStatus", "read the replication status");
  if (gate instanceof Response) return gate;
  const { session, name, row } = gate;
  const digest = queryDigest(c);
  if (digest === null) return badRequestPage(c, session, "Give the image's digest (?digest=sha256:...).");
  if (row === undefined) return notFoundPage(c, session, `Repository ${name}`);
  const db = c.get("db");
  const image = (await findImageRows(db, name, [digest])).get(digest);
  if (image === undefined) return notFoundPage(c, session, `Image ${digest} in ${name}`);
  const mayDescribeRegistry = await allowedOnRegistry(c, session.principal, "ecr:DescribeRegistry");
  const [rows, backlog] = await Promise.all([
    findReplicationStatuses(db, name, digest),
    mayDescribeRegistry && c.req.query("backlog") === "1" ? replicationBacklog(db) : null,
  ]);
  const statuses = newestPerDestination(rows);
  return c.html(
    pageHtml({
      title: `Replication of ${name}`,
      session,
      children: (
        <>
          <ConsoleNav />
          <ImageLine name={name} digest={digest} tags={image.tags}>
            <a href={withQuery("/console/scans", { repository: name, digest })}>Scan findings</a>
          </ImageLine>
          <h2>Destinations</h2>
          {statuses.length === 0 ? (
            <p>This image has no replication: no rule named its repository when it was pushed.</p>
          ) : (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Registry</th>
                    <th scope="col">Region</th>
                    <th scope="col">Status</th>
                    <th scope="col">Failure</th>
                  </tr>
                </thead>
                <tbody>
                  {statuses.map((status) => (
                    <tr class="destination" data-status={status.status}>
                      <td>
                        <code>{status.registryId}</code>
                      </td>
                      <td>{status.region}</td>
                      <td>{status.status}</td>
                      <td>
                        {status.failureCode === null
                          ? ""
                          : status.status === "FAILED"
                            ? status.failureCode
                            : `retrying after ${status.failureCode}`}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {backlog !== null ? (
            <BacklogSection backlog={backlog} />
          ) : mayDescribeRegistry ? (
            <p>
              <a href={withQuery("/console/replication", { repository: name, digest, backlog: 1 })}>
                Show the registry's replication backlog
              </a>
            </p>
          ) : null}
        </>
      ),
    }),
  );
});

function BacklogSection(props: { backlog: ReplicationBacklog }) {
  const { backlog } = props;
  return (
    <section aria-labelledby="backlog">
      <h2 id="backlog">Registry backlog</h2>
      <p>
        {`${backlog.pending} pending`}; oldest pending since <When at={backlog.oldestPendingAt} />.
      </p>
      {backlog.destinations.length === 0 ? null : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Registry</th>
                <th scope="col">Region</th>
                <th scope="col">Pending</th>
                <th scope="col">Complete</th>
                <th scope="col">Failed</th>
                <th scope="col">Failures</th>
              </tr>
            </thead>
            <tbody>
              {backlog.destinations.map((destination) => (
                <tr>
                  <td>
                    <code>{destination.registryId}</code>
                  </td>
                  <td>{destination.region}</td>
                  <td>
                    {destination.pending}
                    {destination.lastRetriedFailure === null ? "" : ` (retrying: ${destination.lastRetriedFailure})`}
                  </td>
                  <td>{destination.complete}</td>
                  <td>{destination.failed}</td>
                  <td>
                    {Object.entries(destination.failures)
                      .map(([code, count]) => `${code}: ${count}`)
                      .join(", ")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
