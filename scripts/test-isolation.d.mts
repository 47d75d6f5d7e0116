/** A copy of wrangler.toml, in a directory without `.dev.vars`, for the Workers test pool; returns its path. */
export function isolatedWranglerConfig(): string;
/** Drops the pool's per-file "WebSocket peer disconnected" teardown line from stderr. */
export function dropRunnerTeardownNoise(): void;
