/**
 * Blob misses in a pull-through cache repository. A GET of a blob the repository does not
 * link yet is fetched from the upstream once, streamed to the client and into R2 at the same
 * time, checked against its digest by R2 as it is stored, and linked into the repository only
 * if it matched (src/pull-through/stream-while-storing.ts). Concurrent misses of the same
 * blob wait for that one fetch and are then served from R2. A digest this registry already
 * stores for another repository is linked without downloading it again, once the upstream
 * confirms (with a HEAD, which Docker Hub does not count) that it has that blob: a digest
 * alone must never reveal another repository's content. A HEAD miss is answered from the
 * upstream's HEAD without storing anything.
 */
import type { AppContext } from "../app-env";
import type { ParsedDigest } from "../oci/grammar";
import { OciError, RegistryError } from "../errors";
import { linkStoredBlob } from "../images/upload-steps";
import { findBlobObject, type BlobLocation } from "../storage/blob-links";
import { canonicalBlobKey } from "../storage/keys";
import { checksumOption } from "../storage/upload-writer";
import { authorizeImport, distributionImporter } from "./importer";
import { failedOutcome, joinFlight, outcomeFailure, type Lead } from "./single-flight";
import { streamWhileStoring } from "./stream-while-storing";
import { clientErrorFor, noteUpstream, upstreamOf, type RuleTarget } from "./targets";
import { failureOfAnswer, upstreamRequest, UpstreamFailure, type Upstream } from "./upstream-client";

function blobUnknown(target: RuleTarget, digest: string): RegistryError {
  return new RegistryError(
    OciError.BLOB_UNKNOWN,
    `blob ${digest} is not in repository ${target.repository} nor at its upstream`,
    { digest },
  );
}

/** Sends a request for the blob upstream, recording the answer; throws unless it is 200. */
async function askUpstream(
  c: AppContext,
  target: RuleTarget,
  upstream: Upstream,
  method: "GET" | "HEAD",
  digest: string,
): Promise<Response> {
  let response: Response;
  try {
    response = await upstreamRequest(upstream, method, `blobs/${digest}`, null, { streamsBody: method === "GET" });
  } catch (error) {
    if (error instanceof UpstreamFailure) noteUpstream(c, target, "blob", { failure: error });
    throw error;
  }
  noteUpstream(c, target, "blob", { response });
  if (response.status !== 200)
    throw await failureOfAnswer(response, `${method} blob ${digest} of ${upstream.repository}`);
  return response;
}

function declaredSize(response: Response, digest: string): number {
  const size = Number(response.headers.get("Content-Length") ?? "NaN");
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new UpstreamFailure("invalid", response.status, `the upstream sent blob ${digest} without a Content-Length`);
  }
  return size;
}

function blobHeaders(digest: string, size: number): Headers {
  return new Headers({
    "Content-Type": "application/octet-stream",
    "Content-Length": String(size),
    "Docker-Content-Digest": digest,
    ETag: `"${digest}"`,
  });
}

/**
 * Serves a blob repository `target.repository` does not link. `serveLinked` serves it once
 * linked (the ordinary blob GET).
 */
export async function pullBlobThrough(
  c: AppContext,
  target: RuleTarget,
  digest: ParsedDigest,
  serveLinked: () => Promise<Response>,
): Promise<Response> {
  await authorizeImport(c, distributionImporter(c), target.repository);
  try {
    const upstream = await upstreamOf(c, target);
    if (c.req.method === "HEAD") {
      const answer = await askUpstream(c, target, upstream, "HEAD", digest.digest);
      return new Response(null, {
        status: 200,
        headers: blobHeaders(digest.digest, declaredSize(answer, digest.digest)),
      });
    }
    const flight = await joinFlight(c, target.repository, `blob:${digest.digest}`);
    if (flight.role === "follower") {
      if (flight.outcome.status === "failed") throw outcomeFailure(flight.outcome);
      return serveLinked();
    }
    let linkedExisting: boolean;
    try {
      linkedExisting = await linkExisting(c, target, upstream, digest.digest);
      if (!linkedExisting) return await fetchAndStore(c, target, upstream, digest, flight.lead);
    } catch (error) {
      await flight.lead.end(failedOutcome(error));
      throw error;
    }
    await flight.lead.end({ status: "done" });
    return serveLinked();
  } catch (error) {
    if (error instanceof UpstreamFailure) throw clientErrorFor(error, blobUnknown(target, digest.digest));
    throw error;
  }
}

/**
 * Links the object another repository already stores for `digest`, once the upstream has
 * confirmed (HEAD) that it serves that blob with that size; false when there is none to link.
 */
async function linkExisting(c: AppContext, target: RuleTarget, upstream: Upstream, digest: string): Promise<boolean> {
  const existing = await findBlobObject(c.get("db"), digest);
  if (existing === undefined) return false;
  const answer = await askUpstream(c, target, upstream, "HEAD", digest);
  if (declaredSize(answer, digest) !== existing.size) return false;
  await link(c, target, digest, existing);
  return true;
}

async function link(c: AppContext, target: RuleTarget, digest: string, location: BlobLocation): Promise<void> {
  const result = await linkStoredBlob(c, target.repository, digest, location, "PULL_THROUGH_CACHE");
  if (result === "collected") {
    throw new UpstreamFailure(
      "unavailable",
      0,
      `garbage collection removed ${digest} while it was being cached; pull again`,
    );
  }
}

/** The leader's download: streamed to the client while R2 stores and verifies it. */
async function fetchAndStore(
  c: AppContext,
  target: RuleTarget,
  upstream: Upstream,
  digest: ParsedDigest,
  lead: Lead,
): Promise<Response> {
  const answer = await askUpstream(c, target, upstream, "GET", digest.digest);
  const size = declaredSize(answer, digest.digest);
  if (answer.body === null)
    throw new UpstreamFailure("invalid", 200, `the upstream sent blob ${digest.digest} without a body`);
  const objectKey = canonicalBlobKey(digest);
  const fixed = new FixedLengthStream(size);
  const stored = c.env.BLOBS.put(objectKey, fixed.readable, checksumOption(digest));
  // A fetch body is bytes; the runtime's types leave its chunk type open.
  const body = streamWhileStoring(answer.body as ReadableStream<Uint8Array>, {
    sink: fixed.writable,
    stored,
    async settle(ok, error) {
      if (!ok) {
        const failure = new UpstreamFailure(
          "invalid",
          200,
          `the upstream's bytes for ${digest.digest} were refused (${error instanceof Error ? error.message : String(error)}); nothing was cached`,
        );
        console.error(failure.message);
        noteUpstream(c, target, "blob", { failure });
        await lead.end(failedOutcome(failure));
        return;
      }
      try {
        await link(c, target, digest.digest, { size, objectKey });
      } catch (linkError) {
        await lead.end(failedOutcome(linkError));
        throw linkError;
      }
      await lead.end({ status: "done" });
    },
    keepAlive: (work) => c.executionCtx.waitUntil(work),
    onProgress: () => lead.renewIfDue(),
  });
  // Through a FixedLengthStream, so the response carries Content-Length: a transfer that is
  // cut short (bytes refused at the end) is then visibly incomplete to every client.
  const toClient = new FixedLengthStream(size);
  c.executionCtx.waitUntil(body.pipeTo(toClient.writable).catch(() => undefined));
  return new Response(toClient.readable, { status: 200, headers: blobHeaders(digest.digest, size) });
}
