// Cron expressions for the local scheduler of `npm start` (scripts/start.mjs): parses the
// standard five fields of wrangler.toml's `[triggers] crons` and finds the next time one fires.
// Pure (no I/O), so it is unit-tested on its own (scripts/cron.test.ts). Times are UTC, as
// Cloudflare runs cron triggers in UTC.
//
// Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC), day of
// week (0-7 or SUN-SAT; 0 and 7 are Sunday). Each is `*`, a value, a range `a-b`, a step
// (`*/n`, `a-b/n`, `a/n`) or a comma list of those. As in cron, when both day fields are
// restricted a day matches if either does. Cloudflare's extensions (`L`, `W`, `#`) are
// refused with an error rather than run on a different schedule than in production.

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: "day of week", min: 0, max: 7, names: DAYS, nameBase: 0 },
];

export class CronError extends Error {}

function parseValue(text, field, expression) {
  const upper = text.toUpperCase();
  const named = field.names?.indexOf(upper) ?? -1;
  if (named >= 0) return named + field.nameBase;
  if (!/^\d+$/.test(text)) {
    throw new CronError(
      `cron "${expression}": "${text}" is not a valid ${field.name}${/[LW#?]/i.test(text) ? " (L, W, # and ? are not supported by the local scheduler)" : ""}`,
    );
  }
  const value = Number(text);
  if (value < field.min || value > field.max) {
    throw new CronError(`cron "${expression}": ${field.name} ${value} is outside ${field.min}-${field.max}`);
  }
  return value;
}

/** The set of values one field allows, and whether it restricts anything (is not `*`). */
function parseField(text, field, expression) {
  const values = new Set();
  for (const part of text.split(",")) {
    const [rangeText, stepText, extra] = part.split("/");
    if (extra !== undefined || rangeText === "")
      throw new CronError(`cron "${expression}": "${part}" is not a valid ${field.name}`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0)
        throw new CronError(
          `cron "${expression}": step "${stepText}" in the ${field.name} field must be a positive number`,
        );
      step = Number(stepText);
    }
    let low;
    let high;
    if (rangeText === "*") {
      [low, high] = [field.min, field.max];
    } else if (rangeText.includes("-")) {
      const [from, to, more] = rangeText.split("-");
      if (more !== undefined) throw new CronError(`cron "${expression}": "${part}" is not a valid ${field.name}`);
      [low, high] = [parseValue(from, field, expression), parseValue(to, field, expression)];
      if (low > high)
        throw new CronError(`cron "${expression}": range ${rangeText} in the ${field.name} field goes backwards`);
    } else {
      low = parseValue(rangeText, field, expression);
      // `a/n` means from a to the end of the field, stepping by n.
      high = stepText === undefined ? low : field.max;
    }
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return { values, restricted: text !== "*" };
}

/** Parses a five-field cron expression; throws CronError naming what is wrong. */
export function parseCron(expression) {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new CronError(
      `cron "${expression}" must have five fields (minute hour day-of-month month day-of-week), not ${parts.length}`,
    );
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parts.map((text, index) =>
    parseField(text, FIELDS[index], expression),
  );
  // 7 is another name for Sunday.
  if (dayOfWeek.values.delete(7)) dayOfWeek.values.add(0);
  return { expression, minute, hour, dayOfMonth, month, dayOfWeek };
}

function dayMatches(schedule, date) {
  const byMonthDay = schedule.dayOfMonth.values.has(date.getUTCDate());
  const byWeekDay = schedule.dayOfWeek.values.has(date.getUTCDay());
  // Standard cron: with both day fields restricted, either one matching is enough.
  if (schedule.dayOfMonth.restricted && schedule.dayOfWeek.restricted) return byMonthDay || byWeekDay;
  if (schedule.dayOfMonth.restricted) return byMonthDay;
  if (schedule.dayOfWeek.restricted) return byWeekDay;
  return true;
}

/** Far enough for any valid schedule (29 February on a given weekday recurs within 28 years). */
const SEARCH_YEARS = 30;

/**
 * The first minute strictly after `after` (a Date or epoch milliseconds) at which the schedule
 * fires, as a Date; null when it never fires (e.g. 30 February).
 */
export function nextFireTime(schedule, after) {
  const start = new Date(typeof after === "number" ? after : after.getTime());
  const time = new Date(
    Date.UTC(
      start.getUTCFullYear(),
      start.getUTCMonth(),
      start.getUTCDate(),
      start.getUTCHours(),
      start.getUTCMinutes() + 1,
    ),
  );
  const limit = start.getUTCFullYear() + SEARCH_YEARS;
  while (time.getUTCFullYear() <= limit) {
    if (!schedule.month.values.has(time.getUTCMonth() + 1)) {
      time.setUTCMonth(time.getUTCMonth() + 1, 1);
      time.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(schedule, time)) {
      time.setUTCDate(time.getUTCDate() + 1);
      time.setUTCHours(0, 0, 0, 0);
    } else if (!schedule.hour.values.has(time.getUTCHours())) {
      time.setUTCHours(time.getUTCHours() + 1, 0, 0, 0);
    } else if (!schedule.minute.values.has(time.getUTCMinutes())) {
      time.setUTCMinutes(time.getUTCMinutes() + 1, 0, 0);
    } else {
      return time;
    }
  }
  return null;
}
