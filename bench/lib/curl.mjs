// curl transfers with their own timing (%{time_total}); GETs send Accept-Encoding: gzip as Go
// clients do and are checked to come back uncompressed, with the expected Content-Length.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "./proc.mjs";

const headerArgs = (headers) => Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);

function lastHeaderBlock(text) {
  const blocks = text.split(/\r?\n\r?\n/).filter((b) => b.trim());
  const last = blocks.at(-1) ?? "";
  const headers = {};
  for (const line of last.split(/\r?\n/).slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

/** GET `url` to /dev/null; returns {seconds, bytes}; throws unless it is `expectSize` plain bytes. */
export async function curlGet(url, { headers = {}, expectSize, scratch }) {
  const headerFile = join(scratch, `headers-${process.pid}-${Date.now()}.txt`);
  try {
    const { stdout } = await run("curl", [
      "-s",
      "-S",
      "-o",
      "/dev/null",
      "-D",
      headerFile,
      "-w",
      "%{time_total} %{size_download} %{http_code}",
      "-H",
      "Accept-Encoding: gzip",
      ...headerArgs(headers),
      url,
    ]);
    const [time, size, code] = stdout.trim().split(" ");
    const got = lastHeaderBlock(readFileSync(headerFile, "utf8"));
    const problems = [];
    if (code !== "200") problems.push(`status ${code}`);
    if (Number(size) !== expectSize) problems.push(`${size} bytes instead of ${expectSize}`);
    if (got["content-encoding"] && got["content-encoding"] !== "identity")
      problems.push(`Content-Encoding ${got["content-encoding"]}`);
    if (Number(got["content-length"]) !== expectSize)
      problems.push(`Content-Length ${got["content-length"] ?? "missing"}`);
    if (problems.length) throw new Error(`GET ${url}: ${problems.join(", ")}`);
    return { seconds: Number(time), bytes: Number(size) };
  } finally {
    rmSync(headerFile, { force: true });
  }
}

/** Uploads `file` with `curl -T` (Content-Length from the file); returns {seconds, bytes, status, headers}. */
export async function curlUpload(
  url,
  file,
  { method = "PUT", headers = {}, expectStatus = [200, 201, 202, 204], scratch },
) {
  const target = new URL(url);
  const headerFile = join(scratch, `headers-${process.pid}-${Date.now()}.txt`);
  try {
    const { stdout } = await run("curl", [
      "-s",
      "-S",
      "-o",
      "/dev/null",
      "-D",
      headerFile,
      "-w",
      "%{time_total} %{size_upload} %{http_code}",
      "-X",
      method,
      "-T",
      file,
      "-H",
      "Expect:",
      "-H",
      "Content-Type: application/octet-stream",
      ...headerArgs(headers),
      // curl -T appends the file's name to a URL whose path ends in "/" (.../uploads/?digest=),
      // so the request line is given as it is.
      "--request-target",
      target.pathname + target.search,
      target.origin + "/",
    ]);
    const [time, size, code] = stdout.trim().split(" ");
    const got = lastHeaderBlock(readFileSync(headerFile, "utf8"));
    if (!expectStatus.includes(Number(code))) throw new Error(`${method} ${url}: status ${code}`);
    return { seconds: Number(time), bytes: Number(size), status: Number(code), headers: got };
  } finally {
    rmSync(headerFile, { force: true });
  }
}

/** sha256 of what a GET returns (verification, not timed). */
export function curlSha256(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn("curl", ["-s", "-S", "-f", "-H", "Accept-Encoding: gzip", ...headerArgs(headers), url], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const hash = createHash("sha256");
    let stderr = "";
    child.stdout.on("data", (d) => hash.update(d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(`sha256:${hash.digest("hex")}`) : reject(new Error(`curl ${url}: ${code} ${stderr}`)),
    );
  });
}
