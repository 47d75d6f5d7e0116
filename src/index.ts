/**
 * Worker entry point: the HTTP app, the cron dispatcher and the Durable Object classes.
 */
import { app } from "./app";
import { runScheduled } from "./jobs/scheduled";

export { RepositoryObject } from "./repository/repository-object";

export default {
  fetch: app.fetch,
  scheduled: runScheduled,
} satisfies ExportedHandler<Env>;
