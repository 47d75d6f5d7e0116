// Readiness of the local runtime for `npm start`: a start counts only once the Worker has
// answered a request, not when workerd merely listens. After kill -9, one restart in about 24
// once left workerd spinning at 100 % CPU with its port open and nothing answered (issue 12
// #11; bench/restart-loop.mjs, bench/findings/workerd-restart-spin.md). npm start reports such
// a start in one line and stops, instead of serving a port that never answers.

/** What the probe asks for: a path the Worker answers 404 without touching storage. */
export const READINESS_PATH = "/_readiness-probe";

/** How long the runtime has, from being started to answering its first request. */
export const READY_SECONDS = 60;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves true once `ready` has resolved and GET `url` has been answered (any status), false
 * when both have not happened within `ms`. Rejects when `ready` rejects (the runtime failed to
 * start, which its own error describes better).
 */
export async function answersWithin(ready, url, ms) {
  const deadline = Date.now() + ms;
  let timer;
  const expired = new Promise((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const answered = (async () => {
    await ready;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(url, {
          signal: AbortSignal.timeout(Math.max(1, Math.round(deadline - Date.now()))),
        });
        await response.arrayBuffer();
        return true;
      } catch {
        await sleep(200);
      }
    }
    return false;
  })();
  try {
    return await Promise.race([expired, answered]);
  } finally {
    clearTimeout(timer);
  }
}
