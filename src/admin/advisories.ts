/**
 * The advisory store (vulnerability scanning's OSV records):
 *   POST /admin/advisories  `{"advisories": [<OSV record>, ...]}` (at most 4 MiB a call;
 *                           `npm run advisories -- import PATH` sends files and archives in
 *                           batches): stores new and newer records, reports the rejected ones
 *                           by position, and re-matches images under CONTINUOUS_SCAN; needs
 *                           `registry:ImportAdvisories` on `*`
 *   GET /admin/advisories   how many records, and when the store last changed; needs
 *                           `ecr:DescribeRegistry` on `*`
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { importAdvisories } from "../scanning/advisory-import";
import { advisoriesUpdatedAt, countAdvisories } from "../storage/advisory-records";
import { requireIdentityAction } from "./authorize";
import { adminError, readJsonInput } from "./input";

export const advisoryRoutes = new Hono<AppEnv>();

/** A batch of OSV records is larger than other admin documents. */
const MAX_ADVISORY_BODY_BYTES = 4 * 1024 * 1024;
const MAX_ADVISORIES_PER_CALL = 1000;

advisoryRoutes.post("/advisories", async (c) => {
  await requireIdentityAction(c, "registry:ImportAdvisories", null);
  const input = await readJsonInput(c, MAX_ADVISORY_BODY_BYTES);
  const documents = input.optionalList("advisories", 0, MAX_ADVISORIES_PER_CALL);
  if (documents === undefined) throw adminError.invalid("advisories (a list of OSV records) is required");
  return c.json(await importAdvisories(c.env, c.get("db"), documents));
});

advisoryRoutes.get("/advisories", async (c) => {
  await requireIdentityAction(c, "ecr:DescribeRegistry", null);
  const db = c.get("db");
  const [count, updatedAt] = await Promise.all([countAdvisories(db), advisoriesUpdatedAt(db)]);
  return c.json({ advisories: count, updatedAt: updatedAt === null ? null : new Date(updatedAt).toISOString() });
});
