// The Debian packages the suite drives. Missing ones are installed with apt-get when running
// as root; otherwise the one command to run is printed and the suite stops.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const PACKAGES = [
  { pkg: "skopeo", bin: "/usr/bin/skopeo" },
  { pkg: "docker-registry", bin: "/usr/bin/docker-registry" },
  { pkg: "nginx", bin: "/usr/sbin/nginx" },
  { pkg: "curl", bin: "/usr/bin/curl" },
  { pkg: "util-linux", bin: "/usr/bin/unshare" },
];

export function ensurePackages(log) {
  const missing = PACKAGES.filter((p) => !existsSync(p.bin)).map((p) => p.pkg);
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y ${missing.join(" ")}`;
  if (process.getuid?.() !== 0) {
    console.error(`Missing Debian packages: ${missing.join(", ")}. Install them with:\n  sudo sh -c '${command}'`);
    process.exit(2);
  }
  log(`installing ${missing.join(", ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update"], ["install", "-y", "--no-install-recommends", ...missing]]) {
    const result = spawnSync("apt-get", args, { env, stdio: ["ignore", "inherit", "inherit"], timeout: 15 * 60_000 });
    if (result.status !== 0) {
      console.error(`apt-get ${args.join(" ")} failed; run: ${command}`);
      process.exit(2);
    }
  }
  const still = PACKAGES.filter((p) => !existsSync(p.bin)).map((p) => p.pkg);
  if (still.length > 0) {
    console.error(`still missing after apt-get: ${still.join(", ")}`);
    process.exit(2);
  }
}
