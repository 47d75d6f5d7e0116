/**
 * Simulated geography is for benchmarks and tests: without REGISTRY_SIMULATED_GEOGRAPHY=1 (this
 * project does not set it) a request naming a location is refused, and nothing is simulated.
 */
import { describe, expect, it } from "vitest";
import { call, expectError, pushImage } from "../support/registry";

describe("simulated geography without its variable", () => {
  it("refuses a request that names a simulated location, and answers others untouched", async () => {
    const image = await pushImage("sim/refused", "v1");
    const refused = await call("GET", `/v2/sim/refused/manifests/${image.digest}`, {
      headers: { "X-Simulated-Location": "singapore" },
    });
    const body = await expectError(refused, 400, "UNSUPPORTED");
    expect(body.errors[0]!.message).toContain("REGISTRY_SIMULATED_GEOGRAPHY=1");
    expect(refused.headers.get("X-Simulated-Trips")).toBeNull();
    const plain = await call("GET", `/v2/sim/refused/manifests/${image.digest}`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get("X-Simulated-Trips")).toBeNull();
  });
});
