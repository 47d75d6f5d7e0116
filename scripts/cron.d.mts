export class CronError extends Error {}
export interface CronField {
  values: Set<number>;
  restricted: boolean;
}
export interface CronSchedule {
  expression: string;
  minute: CronField;
  hour: CronField;
  dayOfMonth: CronField;
  month: CronField;
  dayOfWeek: CronField;
}
export function parseCron(expression: string): CronSchedule;
export function nextFireTime(schedule: CronSchedule, after: Date | number): Date | null;
