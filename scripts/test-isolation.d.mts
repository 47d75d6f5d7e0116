/** A copy of wrangler.toml, in a directory without `.dev.vars`, for the Workers test pool; returns its path. */
export function isolatedWranglerConfig(): string;
/** Drops workerd's reports of work cut off by `reset()` between tests (see the module). */
export function dropResetNoise(): void;
