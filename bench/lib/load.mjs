// HTTP load with autocannon (in this process), keeping every response's latency at full
// resolution (autocannon's own histogram rounds to whole milliseconds).
import { createRequire } from "node:module";
import autocannon from "autocannon";

// autocannon's response parser does not know a HEAD response has no body and waits for the
// Content-Length bytes forever; while a HEAD run is on, tell the parser to skip bodies.
const require = createRequire(import.meta.resolve("autocannon"));
const { HTTPParser } = require("http-parser-js");
let skipBodies = false;
Object.defineProperty(HTTPParser.prototype, HTTPParser.kOnHeadersComplete, {
  configurable: true,
  get() {
    return this.__benchOnHeadersComplete;
  },
  set(handler) {
    this.__benchOnHeadersComplete = function (...args) {
      const result = handler.apply(this, args);
      return skipBodies ? 1 : result;
    };
  },
});

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/**
 * Runs `connections` keep-alive connections against `url` for `seconds`. Returns requests/s
 * (2xx only), p50/p99 latency in ms, and the counts of non-2xx responses and errors.
 */
export async function load({ url, method = "GET", headers = {}, connections, seconds }) {
  const latencies = [];
  let ok = 0;
  let bad = 0;
  skipBodies = method === "HEAD";
  const started = performance.now();
  try {
    const instance = autocannon({ url, method, headers, connections, duration: seconds, timeout: 10 });
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        latencies.push(responseTime);
      } else bad++;
    });
    const result = await instance;
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      rps: ok / Math.max(elapsed, result.duration ?? 0),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      requests: ok,
      non2xx: bad,
      errors: result.errors + result.timeouts,
    };
  } finally {
    skipBodies = false;
  }
}
