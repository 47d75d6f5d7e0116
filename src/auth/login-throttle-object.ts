/**
 * The Durable Object that counts failed logins of one throttle key (an access key id or a
 * client address, see login-throttle.ts): one object per key, so counting is exact without any
 * shared table, and an object whose window has ended deletes its storage (an alarm), so keys an
 * attacker invents leave nothing behind. A count is read and written with no await in between, so
 * concurrent failures are all counted.
 */
import { DurableObject } from "cloudflare:workers";
import { afterFailure, throttledFor, type FailureWindow } from "./login-throttle";

const WINDOW = "window";

export class LoginThrottleObject extends DurableObject<Env> {
  /** Milliseconds until logins counted here may be tried again (0: not throttled). */
  throttledFor(limit: number): number {
    return throttledFor(this.ctx.storage.kv.get<FailureWindow>(WINDOW), limit, Date.now());
  }

  /** Counts one failure; returns how long logins are now throttled (0: not yet). */
  async recordFailure(limit: number, windowMs: number): Promise<number> {
    const now = Date.now();
    const before = this.ctx.storage.kv.get<FailureWindow>(WINDOW);
    const window = afterFailure(before, windowMs, now);
    this.ctx.storage.kv.put(WINDOW, window);
    if (before === undefined || before.endsAt !== window.endsAt) await this.ctx.storage.setAlarm(window.endsAt);
    return throttledFor(window, limit, now);
  }

  /** The window has ended: nothing is left to remember. */
  override async alarm(): Promise<void> {
    const window = this.ctx.storage.kv.get<FailureWindow>(WINDOW);
    if (window !== undefined && Date.now() < window.endsAt) {
      await this.ctx.storage.setAlarm(window.endsAt);
      return;
    }
    await this.ctx.storage.deleteAll();
  }
}
