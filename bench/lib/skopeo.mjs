// skopeo copy between OCI layouts and the registries, each call with an empty blob-info cache
// of its own: skopeo otherwise remembers where it pushed a blob and mounts it from there on the
// next push to the same registry, and the repeated pushes would not upload anything.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "./proc.mjs";

const SYSTEM_CACHE = "/var/lib/containers/cache";
let isolation;

/** How to give skopeo a fresh cache: "xdg" (non-root), "mount-namespace" (root) or "none". */
export function cacheIsolation() {
  if (isolation) return isolation;
  if (process.getuid?.() !== 0) return (isolation = "xdg");
  mkdirSync(SYSTEM_CACHE, { recursive: true, mode: 0o700 });
  const probe = spawnSync(
    "unshare",
    ["--mount", "--propagation", "private", "sh", "-c", `mount --bind /tmp ${SYSTEM_CACHE}`],
    { timeout: 10_000 },
  );
  return (isolation = probe.status === 0 ? "mount-namespace" : "none");
}

/**
 * `skopeo copy --preserve-digests src dest`; returns {seconds, reused} where `reused` counts the
 * blobs skopeo skipped because the destination had them already.
 */
export async function skopeoCopy(src, dest, { authFile, scratch, timeoutMs = 15 * 60_000 }) {
  const cache = mkdtempSync(join(scratch, "bic-"));
  const args = ["--insecure-policy", "copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false"];
  if (authFile) args.push("--authfile", authFile);
  args.push(src, dest);
  let file = "skopeo";
  let argv = args;
  const env = { ...process.env };
  const mode = cacheIsolation();
  if (mode === "mount-namespace") {
    file = "unshare";
    argv = [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mount --bind "$0" ${SYSTEM_CACHE} && exec skopeo "$@"`,
      cache,
      ...args,
    ];
  } else if (mode === "xdg") {
    env.XDG_DATA_HOME = cache;
  }
  try {
    const { stdout, stderr, seconds } = await run(file, argv, { env, timeoutMs });
    const reused = (stdout.match(/skipped: already exists/g) ?? []).length;
    return { seconds, reused, stdout, stderr };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}
