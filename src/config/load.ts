/**
 * The settings of a Worker's environment, parsed once per isolate: cached by the identity of
 * the env object (the runtime hands the same one to every request of an isolate). Safe because
 * a change of variables or secrets deploys a new version, which starts new isolates; tests that
 * call the Worker with an env of their own get a fresh parse for it. A parse that fails is not
 * cached, so every request reports the misconfiguration (src/app.ts logs it once). A replica
 * region whose R2 binding is missing is such a misconfiguration.
 */
import { ConfigurationError } from "../errors";
import { parseSettings, type Settings } from "./settings";

const parsed = new WeakMap<Env, Settings>();

export function settingsOf(env: Env): Settings {
  let settings = parsed.get(env);
  if (settings === undefined) {
    settings = parseSettings(env);
    checkReplicaBindings(env, settings);
    parsed.set(env, settings);
  }
  return settings;
}

/** Every replica region names an R2 binding the Worker has (wrangler.toml [[r2_buckets]]). */
function checkReplicaBindings(env: Env, settings: Settings): void {
  for (const { region, binding } of settings.replicaRegions) {
    if (!isR2Bucket(Reflect.get(env, binding))) {
      throw new ConfigurationError(
        `REPLICA_REGIONS maps ${region} to ${binding}, and the Worker has no R2 bucket bound as ${binding} (wrangler.toml [[r2_buckets]])`,
      );
    }
  }
}

/** An R2 bucket binding, told apart from a variable or another binding by its methods. */
export function isR2Bucket(value: unknown): value is R2Bucket {
  return (
    typeof value === "object" &&
    value !== null &&
    ["head", "get", "put", "delete", "createMultipartUpload"].every(
      (method) => typeof Reflect.get(value, method) === "function",
    )
  );
}

/** The replica buckets REPLICA_REGIONS names, by region (bindings checked by settingsOf). */
export function replicaBuckets(env: Env, settings: Settings): { region: string; bucket: R2Bucket }[] {
  return settings.replicaRegions.flatMap(({ region, binding }) => {
    const bucket: unknown = Reflect.get(env, binding);
    return isR2Bucket(bucket) ? [{ region, bucket }] : [];
  });
}
