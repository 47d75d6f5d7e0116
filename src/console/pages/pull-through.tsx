/**
 * GET /console/pull-through: the pull-through cache rules (`ecr:DescribePullThroughCacheRules`
 * on `*`, as GET /admin/pull-through asks) with what each upstream last said: the latest
 * status, the rate-limit headers of its latest manifest answer, when it last rate-limited
 * this registry, its latest failure, and how many requests the cache made. Read from the same
 * two tables the admin API reads; credentials are named by ARN, never shown.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { listAllPullThroughRules, listUpstreamStatus, type UpstreamStatus } from "../../storage/pull-through-records";
import { pageHtml } from "../layout";
import { ConsoleNav } from "./console-nav";
import { registryGate, When } from "./registry-shared";

export const pullThroughPages = new Hono<AppEnv>();

/** A word for the upstream's health, from its latest answer. */
export function upstreamHealth(status: UpstreamStatus | undefined): "unused" | "ok" | "rate-limited" | "failing" {
  if (status === undefined) return "unused";
  if (status.lastStatus === 429) return "rate-limited";
  // 0: unreachable; 5xx: the upstream's fault; 401/403: the credentials are refused.
  if (status.lastStatus === 0 || status.lastStatus >= 500 || status.lastStatus === 401 || status.lastStatus === 403)
    return "failing";
  return "ok";
}

pullThroughPages.get("/console/pull-through", async (c) => {
  const session = await registryGate(c, "ecr:DescribePullThroughCacheRules", "list the pull-through cache rules");
  if (session instanceof Response) return session;
  const db = c.get("db");
  const [rules, statuses] = await Promise.all([listAllPullThroughRules(db), listUpstreamStatus(db)]);
  const byPrefix = new Map(statuses.map((status) => [status.prefix, status]));
  rules.sort((a, b) => a.prefix.localeCompare(b.prefix));
  return c.html(
    pageHtml({
      title: "Pull-through caches",
      session,
      children: (
        <>
          <ConsoleNav current="/console/pull-through" />
          {rules.length === 0 ? (
            <p>No pull-through cache rule.</p>
          ) : (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Prefix</th>
                    <th scope="col">Upstream</th>
                    <th scope="col">Health</th>
                    <th scope="col">Last answer</th>
                    <th scope="col">Rate limit</th>
                    <th scope="col">Last failure</th>
                    <th scope="col">Requests</th>
                  </tr>
                </thead>
                <tbody>
                  {rules.map((rule) => {
                    const status = byPrefix.get(rule.prefix);
                    const health = upstreamHealth(status);
                    return (
                      <tr class="rule" data-prefix={rule.prefix}>
                        <td>
                          <code>{rule.prefix}</code>
                        </td>
                        <td>
                          <code>{rule.upstreamRegistryUrl}</code>
                          {rule.upstreamRepositoryPrefix === null ? "" : ` /${rule.upstreamRepositoryPrefix}`}
                          <div class="muted">
                            {rule.upstreamRegistry}
                            {rule.credentialArn === null ? ", anonymous" : ", with credentials"}
                          </div>
                        </td>
                        <td class={`health-${health}`}>{health}</td>
                        {status === undefined ? (
                          <td colspan={4} class="muted">
                            No request has reached this upstream yet.
                          </td>
                        ) : (
                          <>
                            <td>
                              {status.lastStatus === 0 ? "unreachable" : `HTTP ${status.lastStatus}`}
                              <div class="muted">
                                <When at={status.lastContactAt} />
                              </div>
                            </td>
                            <td>
                              {status.rateLimitRemaining === null && status.rateLimitLimit === null
                                ? "—"
                                : `${status.rateLimitRemaining ?? "?"} left of ${status.rateLimitLimit ?? "?"}`}
                              {status.rateLimitSource === null ? null : (
                                <div class="muted">{`source ${status.rateLimitSource}`}</div>
                              )}
                              {status.rateLimitedAt === null ? null : (
                                <div>
                                  Rate-limited <When at={status.rateLimitedAt} />
                                </div>
                              )}
                            </td>
                            <td>
                              {status.lastError ?? "—"}
                              {status.lastErrorAt === null ? null : (
                                <div class="muted">
                                  <When at={status.lastErrorAt} />
                                </div>
                              )}
                            </td>
                            <td>{`${status.manifestRequests} manifest, ${status.blobRequests} blob`}</td>
                          </>
                        )}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </>
      ),
    }),
  );
});
