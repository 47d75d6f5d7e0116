/**
 * Admin visibility of the pull-through caches:
 *   GET /admin/pull-through   every rule with what its upstream last said: the rate-limit
 *                             headers of its latest manifest answer (Docker Hub's
 *                             `ratelimit-limit`, `ratelimit-remaining`,
 *                             `docker-ratelimit-source`), when it last rate-limited this
 *                             registry (429), its latest failure, and how many manifest and
 *                             blob requests the cache has made. Needs
 *                             `ecr:DescribePullThroughCacheRules` on `*`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { listAllPullThroughRules, listUpstreamStatus } from "../storage/pull-through-records";
import { requireIdentityAction } from "./authorize";
import { isoOrNull } from "./present";

export const pullThroughRoutes = new Hono<AppEnv>();

pullThroughRoutes.get("/pull-through", async (c) => {
  await requireIdentityAction(c, "ecr:DescribePullThroughCacheRules", null);
  const db = c.get("db");
  const [rules, statuses] = await Promise.all([listAllPullThroughRules(db), listUpstreamStatus(db)]);
  const byPrefix = new Map(statuses.map((status) => [status.prefix, status]));
  return c.json({
    rules: rules
      .sort((a, b) => a.prefix.localeCompare(b.prefix))
      .map((rule) => {
        const status = byPrefix.get(rule.prefix);
        return {
          prefix: rule.prefix,
          upstreamRegistryUrl: rule.upstreamRegistryUrl,
          upstreamRegistry: rule.upstreamRegistry,
          credentialArn: rule.credentialArn,
          upstream:
            status === undefined
              ? null
              : {
                  lastContactAt: isoOrNull(status.lastContactAt),
                  lastStatus: status.lastStatus,
                  rateLimit: {
                    limit: status.rateLimitLimit,
                    remaining: status.rateLimitRemaining,
                    source: status.rateLimitSource,
                  },
                  rateLimitedAt: isoOrNull(status.rateLimitedAt),
                  lastError: status.lastError,
                  lastErrorAt: isoOrNull(status.lastErrorAt),
                  manifestRequests: status.manifestRequests,
                  blobRequests: status.blobRequests,
                },
        };
      }),
  });
});
