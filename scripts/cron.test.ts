import { describe, expect, it } from "vitest";
import { CronError, nextFireTime, parseCron } from "./cron.mjs";

/** The next fire time after `after` (an ISO time), as an ISO time. */
function next(expression: string, after: string): string | null {
  return nextFireTime(parseCron(expression), new Date(after))?.toISOString() ?? null;
}

describe("nextFireTime", () => {
  it.each<[string, string, string]>([
    // The registry's own schedule (wrangler.toml).
    ["*/15 * * * *", "2026-03-01T10:00:00.000Z", "2026-03-01T10:15:00.000Z"],
    ["*/15 * * * *", "2026-03-01T10:14:59.999Z", "2026-03-01T10:15:00.000Z"],
    ["*/15 * * * *", "2026-03-01T10:15:00.000Z", "2026-03-01T10:30:00.000Z"],
    ["*/15 * * * *", "2026-03-01T23:50:00.000Z", "2026-03-02T00:00:00.000Z"],
    ["*/15 * * * *", "2026-12-31T23:45:30.000Z", "2027-01-01T00:00:00.000Z"],
    // Every minute: strictly after, whole minutes.
    ["* * * * *", "2026-03-01T10:00:00.000Z", "2026-03-01T10:01:00.000Z"],
    ["* * * * *", "2026-03-01T10:00:59.000Z", "2026-03-01T10:01:00.000Z"],
    // Values, lists, ranges and steps.
    ["30 2 * * *", "2026-03-01T02:30:00.000Z", "2026-03-02T02:30:00.000Z"],
    ["0,30 * * * *", "2026-03-01T10:10:00.000Z", "2026-03-01T10:30:00.000Z"],
    ["0 9-17/4 * * *", "2026-03-01T10:00:00.000Z", "2026-03-01T13:00:00.000Z"],
    ["5/20 * * * *", "2026-03-01T10:26:00.000Z", "2026-03-01T10:45:00.000Z"],
    ["0 0 1 * *", "2026-01-31T12:00:00.000Z", "2026-02-01T00:00:00.000Z"],
    // Names, Sunday as 0 and 7.
    ["0 12 * JAN,jul *", "2026-02-01T00:00:00.000Z", "2026-07-01T12:00:00.000Z"],
    ["0 0 * * SUN", "2026-03-02T00:00:00.000Z", "2026-03-08T00:00:00.000Z"],
    ["0 0 * * 7", "2026-03-02T00:00:00.000Z", "2026-03-08T00:00:00.000Z"],
    ["0 0 * * MON-FRI", "2026-03-06T01:00:00.000Z", "2026-03-09T00:00:00.000Z"],
    // Both day fields restricted: either matches (1 March 2026 is a Sunday, 2 March a Monday).
    ["0 0 15 * MON", "2026-02-28T00:00:00.000Z", "2026-03-02T00:00:00.000Z"],
    // Only the month day: 31 skips short months; 29 February waits for a leap year.
    ["0 0 31 * *", "2026-04-01T00:00:00.000Z", "2026-05-31T00:00:00.000Z"],
    ["0 0 29 2 *", "2026-03-01T00:00:00.000Z", "2028-02-29T00:00:00.000Z"],
  ])("%s after %s is %s", (expression, after, expected) => {
    expect(next(expression, after)).toBe(expected);
  });

  it("accepts epoch milliseconds", () => {
    expect(nextFireTime(parseCron("*/15 * * * *"), Date.parse("2026-03-01T10:00:00Z"))?.toISOString()).toBe(
      "2026-03-01T10:15:00.000Z",
    );
  });

  it("returns null for a schedule that never fires", () => {
    expect(next("0 0 30 2 *", "2026-01-01T00:00:00.000Z")).toBeNull();
  });
});

describe("parseCron refuses", () => {
  it.each<[string, RegExp]>([
    ["* * * *", /five fields/],
    ["* * * * * *", /five fields/],
    ["60 * * * *", /minute 60 is outside 0-59/],
    ["* 24 * * *", /hour 24 is outside 0-23/],
    ["* * 0 * *", /day of month 0 is outside 1-31/],
    ["* * * 13 *", /month 13 is outside 1-12/],
    ["* * * * 8", /day of week 8 is outside 0-7/],
    ["*/0 * * * *", /step "0"/],
    ["*/x * * * *", /step "x"/],
    ["10-5 * * * *", /goes backwards/],
    ["1-2-3 * * * *", /not a valid minute/],
    ["1/2/3 * * * *", /not a valid minute/],
    [", * * * *", /not a valid minute/],
    ["* * L * *", /L, W, # and \? are not supported/],
    ["* * * * 1#2", /L, W, # and \? are not supported/],
    ["* * * FOO *", /"FOO" is not a valid month/],
  ])("%s", (expression, message) => {
    expect(() => parseCron(expression)).toThrow(CronError);
    expect(() => parseCron(expression)).toThrow(message);
  });
});
