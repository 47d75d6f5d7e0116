/**
 * Manifests in a pull-through cache repository.
 *
 * - A digest the repository lacks is fetched from the upstream by digest, checked against it,
 *   and stored; after that, pulls by that digest never go upstream again.
 * - A tag the repository lacks is fetched with one GET, checked against the upstream's
 *   Docker-Content-Digest, and stored with the tag marked validated now.
 * - A cached tag last validated longer ago than PULL_THROUGH_TAG_REVALIDATE_SECONDS (24 h by
 *   default, as ECR) is checked with a HEAD, which Docker Hub does not count against its rate
 *   limit; only a changed digest costs a GET. If the upstream fails or rate-limits, the cached
 *   copy is served.
 * - An index brings its platform manifests (blobs come when first pulled).
 * Concurrent misses of the same tag or digest make one upstream request: the repository's
 * object lets one request lead and the others read what it stored.
 *
 * It wraps the image operations (src/images/manifests.ts) as a proxy wraps a store:
 * findManifestThrough is what `/v2` reads manifests with, and what it stores goes through
 * pushManifest like any push.
 */
import type { AppContext } from "../app-env";
import { readAtMost } from "../bytes";
import { OciError, RegistryError } from "../errors";
import { digestOf, findManifest, pushManifest, type ManifestPush } from "../images/manifests";
import { findManifestForPull } from "../images/pull-reads";
import { OciFormatError } from "../oci/errors";
import { parseDigest, referenceText, type ParsedDigest, type Reference } from "../oci/grammar";
import { describeSizeMismatches, parseManifest } from "../oci/manifest-format";
import { MediaType } from "../oci/media-types";
import { recordAuditEvents } from "../storage/audit-records";
import {
  findManifestByDigest,
  findManifestByTag,
  findManifestDigests,
  markTagValidated,
  type StoredManifest,
  type TaggedManifest,
} from "../storage/manifest-records";
import { authorizeImport, distributionImporter, type Importer } from "./importer";
import { tagNeedsRevalidation } from "./rules";
import { joinFlight, leading, outcomeFailure } from "./single-flight";
import { cacheTargetFor, clientErrorFor, noteUpstream, upstreamOf, type RuleTarget } from "./targets";
import { failureOfAnswer, upstreamRequest, UpstreamFailure, type Upstream } from "./upstream-client";

/** Every manifest type this registry stores, so the cache holds what any client may ask for. */
const UPSTREAM_ACCEPT = [
  MediaType.OCI_INDEX,
  MediaType.DOCKER_MANIFEST_LIST,
  MediaType.OCI_MANIFEST,
  MediaType.DOCKER_MANIFEST,
].join(", ");
/** Platform manifests of an index fetched at once. */
const CHILD_FETCH_CONCURRENCY = 4;

function manifestUnknown(target: RuleTarget, reference: string): RegistryError {
  return new RegistryError(
    OciError.MANIFEST_UNKNOWN,
    `manifest ${reference} is not in repository ${target.repository} nor at its upstream`,
    { reference },
  );
}

/**
 * A manifest of repository `name` for a `/v2` pull: the stored one (one D1 query, placed near
 * the user by src/images/pull-reads.ts, or none from its read cache), except in a
 * pull-through cache repository, where a miss is fetched from the upstream and a cached tag
 * due for revalidation is checked first. Undefined when there is none; an upstream failure
 * is the `/v2` error for it (clientErrorFor).
 */
export async function findManifestThrough(
  c: AppContext,
  name: string,
  reference: Reference,
): Promise<StoredManifest | undefined> {
  const found = await findManifestForPull(c, name, reference);
  if (found !== undefined && "validatedAt" in found) {
    // Only tags a pull-through cache wrote carry a validation time: pushed tags skip this.
    if (tagNeedsRevalidation(found.validatedAt, Date.now(), c.var.settings.pullThroughTagRevalidateMs)) {
      const target = await cacheTargetFor(c, name);
      if (target !== null && reference.kind === "tag") return revalidateTag(c, target, reference.tag, found);
    }
  }
  if (found !== undefined) return found;
  const target = await cacheTargetFor(c, name);
  return target ? pullManifestThrough(c, target, reference) : undefined;
}

/** A manifest the repository does not have, for a `/v2` pull: fetched, stored, returned. */
async function pullManifestThrough(c: AppContext, target: RuleTarget, reference: Reference): Promise<StoredManifest> {
  try {
    return await importManifest(c, target, reference, distributionImporter(c));
  } catch (error) {
    if (error instanceof UpstreamFailure)
      throw clientErrorFor(error, manifestUnknown(target, referenceText(reference)));
    throw error;
  }
}

/**
 * Fetches and stores a manifest the repository does not have, once for all concurrent
 * callers. Throws UpstreamFailure when the upstream cannot give it (each surface reports that
 * its own way), and the importer's refusal when it may not import.
 */
export async function importManifest(
  c: AppContext,
  target: RuleTarget,
  reference: Reference,
  importer: Importer,
): Promise<StoredManifest> {
  await authorizeImport(c, importer, target.repository);
  const text = referenceText(reference);
  const flight = await joinFlight(c, target.repository, `manifest:${text}`);
  if (flight.role === "follower") {
    if (flight.outcome.status === "failed") throw outcomeFailure(flight.outcome);
    const stored = await findManifest(c.get("db"), target.repository, reference);
    if (stored === undefined)
      throw new UpstreamFailure("unavailable", 0, `manifest ${text} was fetched but is not stored`);
    return stored;
  }
  return leading(flight.lead, async () => {
    const upstream = await upstreamOf(c, target);
    const fetched = await fetchManifest(
      c,
      target,
      upstream,
      text,
      reference.kind === "digest" ? reference.digest : null,
    );
    return store(c, target, upstream, fetched, reference.kind === "tag" ? reference.tag : null, importer);
  });
}

/**
 * A cached tag due for revalidation: HEAD upstream, and fetch only if the digest moved.
 * Always answers something: the cached copy when the upstream cannot be asked.
 */
async function revalidateTag(
  c: AppContext,
  target: RuleTarget,
  tag: string,
  cached: TaggedManifest,
): Promise<StoredManifest> {
  try {
    const flight = await joinFlight(c, target.repository, `manifest:${tag}`);
    if (flight.role === "follower") return (await findManifestByTag(c.get("db"), target.repository, tag)) ?? cached;
    return await leading(flight.lead, async () => {
      const upstream = await upstreamOf(c, target);
      const current = await headManifest(c, target, upstream, tag);
      if (current === cached.digest) {
        await markTagValidated(c.get("db"), target.repository, tag, cached.digest, Date.now());
        return cached;
      }
      const fetched = await fetchManifest(c, target, upstream, current ?? tag, null);
      return store(c, target, upstream, fetched, tag, distributionImporter(c));
    });
  } catch (error) {
    if (!(error instanceof UpstreamFailure)) throw error;
    // The upstream is down, rate-limiting or refusing: the cached copy is still good to serve.
    console.warn(`serving cached ${target.repository}:${tag}: ${error.message}`);
    return cached;
  }
}

async function manifestRequest(
  c: AppContext,
  target: RuleTarget,
  upstream: Upstream,
  method: "GET" | "HEAD",
  reference: string,
): Promise<Response> {
  let response: Response;
  try {
    response = await upstreamRequest(upstream, method, `manifests/${reference}`, UPSTREAM_ACCEPT);
  } catch (error) {
    if (error instanceof UpstreamFailure) noteUpstream(c, target, "manifest", { failure: error });
    throw error;
  }
  noteUpstream(c, target, "manifest", { response });
  if (response.status !== 200)
    throw await failureOfAnswer(response, `${method} manifest ${upstream.repository}:${reference}`);
  return response;
}

/** The digest the upstream's tag points at now, or null when its HEAD does not say. */
async function headManifest(
  c: AppContext,
  target: RuleTarget,
  upstream: Upstream,
  tag: string,
): Promise<string | null> {
  const response = await manifestRequest(c, target, upstream, "HEAD", tag);
  return response.headers.get("Docker-Content-Digest");
}

interface FetchedManifest {
  bytes: Uint8Array;
  digest: string;
  contentType: string | null;
}

/**
 * GETs a manifest and checks its bytes: against `expected` when fetching by digest, else
 * against the digest the upstream declares for the tag.
 */
async function fetchManifest(
  c: AppContext,
  target: RuleTarget,
  upstream: Upstream,
  reference: string,
  expected: ParsedDigest | null,
): Promise<FetchedManifest> {
  const response = await manifestRequest(c, target, upstream, "GET", reference);
  const what = `manifest ${upstream.repository}:${reference}`;
  const limit = c.var.settings.manifestMaxBytes;
  const tooLarge = () => new UpstreamFailure("invalid", 200, `${what} is larger than ${limit} bytes`);
  if (Number(response.headers.get("Content-Length") ?? "0") > limit) throw tooLarge();
  const bytes = await readAtMost(response.body, limit, tooLarge);
  const declared = expected?.digest ?? response.headers.get("Docker-Content-Digest");
  const algorithm = expected?.algorithm ?? (declared?.startsWith("sha512:") ? "sha512" : "sha256");
  const digest = await digestOf(bytes, algorithm);
  if (declared !== null && declared !== digest) {
    throw new UpstreamFailure(
      "invalid",
      200,
      `${what}: the upstream's bytes have digest ${digest}, not ${declared}; nothing was cached`,
    );
  }
  return { bytes, digest, contentType: response.headers.get("Content-Type") };
}

/** Writes a manifest from the upstream through the repository's object (no blob links needed). */
async function writeCached(
  c: AppContext,
  name: string,
  manifest: FetchedManifest,
  tag: string | null,
  pullThrough?: ManifestPush["pullThrough"],
) {
  const push: ManifestPush = {
    ...(pullThrough === undefined ? {} : { pullThrough }),
    bytes: manifest.bytes,
    digest: manifest.digest,
    contentType: manifest.contentType,
    tag,
    createRepository: true,
    cached: true,
  };
  // The upstream sent something this registry does not accept as a manifest.
  const refused = (message: string) =>
    new UpstreamFailure("invalid", 200, `the upstream's manifest ${manifest.digest} was refused: ${message}`);
  let result;
  try {
    result = await pushManifest(c.env, name, push);
  } catch (error) {
    if (error instanceof OciFormatError || error instanceof RegistryError) throw refused(error.message);
    throw error;
  }
  if (result.status === "size-mismatch") throw refused(describeSizeMismatches(result.mismatches));
  return result;
}

/** Stores a fetched manifest (an index's missing platform manifests first) and reads it back. */
async function store(
  c: AppContext,
  target: RuleTarget,
  upstream: Upstream,
  fetched: FetchedManifest,
  tag: string | null,
  importer: Importer,
): Promise<StoredManifest> {
  const name = target.repository;
  const children = childDigestsOf(fetched);
  if (children.length > 0) await storeChildren(c, target, upstream, children);
  const result = await writeCached(c, name, fetched, tag, {
    prefix: target.rule.prefix,
    upstreamUrl: `${upstream.baseUrl}/${upstream.repository}`,
  });
  if (result.status === "stored" && !result.unchanged) recordImport(c, importer, target, upstream, fetched, tag);
  if (result.status === "tag-immutable") {
    console.warn(`${name}:${tag} is immutable here: the upstream's ${fetched.digest} is not applied`);
  } else if (result.status !== "stored") {
    throw new UpstreamFailure(
      "invalid",
      200,
      `the upstream's manifest ${fetched.digest} could not be stored (${result.status})`,
    );
  }
  let stored: StoredManifest | undefined;
  if (tag !== null && result.status === "tag-immutable") {
    // Checked now: the next revalidation is a whole interval away, not a GET on every pull.
    await markTagValidated(c.get("db"), name, tag, result.currentDigest, Date.now());
    stored = await findManifestByTag(c.get("db"), name, tag);
  } else {
    stored = await findManifestByDigest(c.get("db"), name, fetched.digest);
  }
  if (stored === undefined)
    throw new UpstreamFailure("unavailable", 0, `manifest ${fetched.digest} was stored but cannot be read back`);
  return stored;
}

/** The platform manifests of an index that the repository lacks, fetched a few at a time. */
async function storeChildren(
  c: AppContext,
  target: RuleTarget,
  upstream: Upstream,
  digests: readonly string[],
): Promise<void> {
  const present = await findManifestDigests(c.get("db"), target.repository, digests);
  const missing = digests.filter((digest) => !present.has(digest));
  for (let i = 0; i < missing.length; i += CHILD_FETCH_CONCURRENCY) {
    await Promise.all(
      missing.slice(i, i + CHILD_FETCH_CONCURRENCY).map(async (digest) => {
        const parsed = parseDigest(digest);
        if (parsed === null)
          throw new UpstreamFailure("invalid", 200, `the upstream's index lists an unusable digest ${digest}`);
        await writeCached(c, target.repository, await fetchManifest(c, target, upstream, digest, parsed), null);
      }),
    );
  }
}

/** The audit trail of imports: who pulled what from which upstream (written after the response). */
function recordImport(
  c: AppContext,
  importer: Importer,
  target: RuleTarget,
  upstream: Upstream,
  fetched: FetchedManifest,
  tag: string | null,
): void {
  const event = {
    at: Date.now(),
    actor: importer.actor,
    action: "ecr:BatchImportUpstreamImage",
    repository: target.repository,
    digest: fetched.digest,
    detail: { rule: target.rule.prefix, upstream: `${upstream.baseUrl}/${upstream.repository}`, tag },
  };
  c.executionCtx.waitUntil(
    recordAuditEvents(c.get("db"), [event]).catch((error: unknown) =>
      console.error("recording an import failed", error),
    ),
  );
}

/** The manifests an index lists (none for an image manifest). */
function childDigestsOf(fetched: FetchedManifest): string[] {
  try {
    return parseManifest(fetched.bytes, fetched.contentType).childDigests;
  } catch (error) {
    throw new UpstreamFailure(
      "invalid",
      200,
      `the upstream's manifest ${fetched.digest} is not one this registry accepts: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
