import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach } from "vitest";

/** The schema on the database and, where the project binds one, the simulated read replica. */
async function migrate(): Promise<void> {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  if (env.SIMULATED_D1_REPLICA !== undefined) await applyD1Migrations(env.SIMULATED_D1_REPLICA, env.TEST_MIGRATIONS);
}

// Storage is per file; reset it between tests too so each test starts empty.
await migrate();
afterEach(async () => {
  await reset();
  await migrate();
});
