/**
 * The cron dispatcher looks jobs up by the invocation's cron string, which the local runtime
 * takes from a URL (`/cdn-cgi/handler/scheduled?cron=...`): only its own crons may match.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";

describe("scheduled dispatch", () => {
  it.each(["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"])(
    "runs no job for cron %s, and says so",
    async (cron) => {
      const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
      try {
        const ctx = createExecutionContext();
        await expect(
          worker.scheduled(createScheduledController({ cron, scheduledTime: Date.now() }), env, ctx),
        ).resolves.toBeUndefined();
        await waitOnExecutionContext(ctx);
        expect(logged).toHaveBeenCalledWith(`scheduled: no jobs for cron "${cron}" (src/jobs/scheduled.ts lists them)`);
      } finally {
        logged.mockRestore();
      }
    },
  );

  it("fails a run whose settings are malformed, naming the variable, before any job starts", async () => {
    const ctx = createExecutionContext();
    const controller = createScheduledController({ cron: "*/15 * * * *", scheduledTime: Date.now() });
    await expect(
      worker.scheduled(controller, { ...env, GC_GRACE_SECONDS: "an hour" } as unknown as Env, ctx),
    ).rejects.toThrow(/^GC_GRACE_SECONDS must be a number of seconds/);
    await waitOnExecutionContext(ctx);
  });
});
