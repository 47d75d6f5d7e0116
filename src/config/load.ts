/**
 * The settings of a Worker's environment, parsed once per isolate: cached by the identity of
 * the env object (the runtime hands the same one to every request of an isolate). Safe because
 * a change of variables or secrets deploys a new version, which starts new isolates; tests that
 * call the Worker with an env of their own get a fresh parse for it. A parse that fails is not
 * cached, so every request reports the misconfiguration (src/app.ts logs it once).
 */
import { parseSettings, type Settings } from "./settings";

const parsed = new WeakMap<Env, Settings>();

export function settingsOf(env: Env): Settings {
  let settings = parsed.get(env);
  if (settings === undefined) {
    settings = parseSettings(env);
    parsed.set(env, settings);
  }
  return settings;
}
