import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach } from "vitest";

// Storage is per file; reset it between tests too so each test starts empty.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
afterEach(async () => {
  await reset();
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
});
