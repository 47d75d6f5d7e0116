/**
 * Pushing to another registry over the OCI distribution API, as `docker push` does: the token
 * flow of the registry's challenge (Basic with the destination's credentials at the realm it
 * names, scope `repository:<name>:pull,push`), a HEAD before each blob so nothing the
 * destination has is sent again, blob uploads streamed from R2 (each blob in one request, as
 * docker and skopeo push, or in chunks no larger than the destination's `chunkBytes` for a
 * registry behind a request-body limit), and manifest PUTs.
 *
 * Every failure is a ReplicationAttemptError with ECR-style failure code: refused credentials
 * or permissions are REGISTRY_POLICY_DENIED, other 4xx DESTINATION_REJECTED, and no answer,
 * 5xx or 429 DESTINATION_UNAVAILABLE (retried by the run).
 */
import { parseChallenge, type Challenge } from "../pull-through/upstream-headers";
import type { OperationBudget } from "./budget";
import type { RegistryDestination } from "./destinations";
import type { ReplicationFailureCode } from "./retry";

/** The smallest chunk a destination may ask for (R2's, and most registries', smallest part). */
export const MIN_CHUNK_BYTES = 5 * 1024 * 1024;
/** A request's answer (its headers) must come within this; a body streams as long as it takes. */
const ANSWER_TIMEOUT_MS = 60_000;

export class ReplicationAttemptError extends Error {
  constructor(
    readonly failure: ReplicationFailureCode,
    message: string,
  ) {
    super(message);
    this.name = "ReplicationAttemptError";
  }
}

/** Reads `length` bytes of a blob from `offset`: a fresh stream each call (a retried request reads again). */
export type RangeReader = (offset: number, length: number) => Promise<ReadableStream<Uint8Array> | Uint8Array>;

interface RequestInit {
  headers?: Record<string, string>;
  body?: () => Promise<BodyInit>;
}

function failureOf(status: number): ReplicationFailureCode {
  if (status === 401 || status === 403) return "REGISTRY_POLICY_DENIED";
  if (status === 429 || status >= 500) return "DESTINATION_UNAVAILABLE";
  return "DESTINATION_REJECTED";
}

/** The OCI error code and message of an error answer, for the log and the failure's message. */
async function describeAnswer(response: Response): Promise<{ code: string | null; text: string }> {
  const text = (await response.text().catch(() => "")).slice(0, 500);
  try {
    const parsed: unknown = JSON.parse(text);
    const errors = (parsed as { errors?: { code?: unknown }[] }).errors;
    const code = Array.isArray(errors) && typeof errors[0]?.code === "string" ? errors[0].code : null;
    return { code, text };
  } catch {
    return { code: null, text };
  }
}

/** One destination repository, for one replication attempt. */
export class RegistryPushClient {
  private authorization: string | null = null;
  private challenge: Challenge | null = null;
  /** Bytes of blob content sent (the bench and the tests count what the destination receives). */
  bytesSent = 0;

  constructor(
    private readonly destination: RegistryDestination,
    private readonly repository: string,
    private readonly budget: OperationBudget,
  ) {}

  private get base(): string {
    return `${this.destination.endpoint}/v2/${this.repository}`;
  }

  /** Asks `/v2/` how to authenticate, and gets a push token if the registry uses tokens. */
  async authenticate(): Promise<void> {
    const ping = await this.send("GET", `${this.destination.endpoint}/v2/`, {}, false);
    await ping.body?.cancel();
    if (ping.status === 200) return;
    if (ping.status !== 401)
      throw new ReplicationAttemptError(failureOf(ping.status), `GET /v2/ answered ${ping.status}`);
    this.challenge = parseChallenge(ping.headers.get("WWW-Authenticate"));
    await this.authorize();
  }

  private async authorize(): Promise<void> {
    const credentials = this.destination.credentials;
    const challenge = this.challenge;
    if (challenge === null) return;
    const basic = credentials === null ? null : `Basic ${btoa(`${credentials.username}:${credentials.password}`)}`;
    if (challenge.scheme === "basic") {
      if (basic === null)
        throw new ReplicationAttemptError(
          "REGISTRY_POLICY_DENIED",
          "the destination asks for credentials and none are configured",
        );
      this.authorization = basic;
      return;
    }
    if (challenge.scheme !== "bearer")
      throw new ReplicationAttemptError(
        "DESTINATION_REJECTED",
        "the destination asks for an authentication scheme other than Basic or Bearer",
      );
    const url = new URL(challenge.realm);
    if (challenge.service !== null) url.searchParams.set("service", challenge.service);
    url.searchParams.set("scope", `repository:${this.repository}:pull,push`);
    const response = await this.send(
      "GET",
      url.toString(),
      { headers: basic === null ? {} : { Authorization: basic } },
      false,
    );
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new ReplicationAttemptError(
        failureOf(response.status),
        `the destination's token service answered ${response.status}`,
      );
    }
    const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    const token = typeof body?.token === "string" ? body.token : body?.access_token;
    if (typeof token !== "string" || token === "")
      throw new ReplicationAttemptError("DESTINATION_REJECTED", "the destination's token service gave no token");
    this.authorization = `Bearer ${token}`;
  }

  /**
   * One request with the current authorization; on a 401 the token is fetched again (it may have
   * expired during a long upload) and the request sent once more, its body read anew.
   */
  private async request(method: string, url: string, init: RequestInit = {}): Promise<Response> {
    const first = await this.send(method, url, init, true);
    if (first.status !== 401 || this.challenge?.scheme !== "bearer") return first;
    await first.body?.cancel();
    await this.authorize();
    return this.send(method, url, init, true);
  }

  private async send(method: string, url: string, init: RequestInit, authorized: boolean): Promise<Response> {
    this.budget.spend(1);
    const headers = new Headers(init.headers);
    if (authorized && this.authorization !== null) headers.set("Authorization", this.authorization);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException("no answer", "TimeoutError")), ANSWER_TIMEOUT_MS);
    try {
      const body = init.body === undefined ? null : await init.body();
      return await fetch(url, { method, headers, body, redirect: "manual", signal: controller.signal });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ReplicationAttemptError("DESTINATION_UNAVAILABLE", `${method} ${url}: ${reason}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async fail(response: Response, what: string): Promise<never> {
    const { code, text } = await describeAnswer(response);
    throw new ReplicationAttemptError(
      failureOf(response.status),
      `${what} answered ${response.status}${code === null ? "" : ` ${code}`}: ${text}`,
    );
  }

  async hasBlob(digest: string): Promise<boolean> {
    const response = await this.request("HEAD", `${this.base}/blobs/${digest}`);
    await response.body?.cancel();
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    return this.fail(response, `HEAD blob ${digest}`);
  }

  /**
   * Uploads a blob the destination lacks: in one monolithic POST (`?digest=`, the bytes checked
   * by the destination as they are stored), or, for a registry that answers it with a session
   * or when the blob is larger than the destination's chunkBytes, PATCH chunks and a closing PUT.
   */
  async uploadBlob(digest: string, size: number, read: RangeReader): Promise<void> {
    const chunkBytes = this.destination.chunkBytes ?? size;
    const whole = size <= chunkBytes;
    const started = whole
      ? await this.request("POST", `${this.base}/blobs/uploads/?digest=${encodeURIComponent(digest)}`, {
          headers: { "Content-Type": "application/octet-stream" },
          body: () => read(0, size),
        })
      : await this.request("POST", `${this.base}/blobs/uploads/`);
    if (whole && started.status === 201) {
      await started.body?.cancel();
      this.bytesSent += size;
      return;
    }
    if (started.status !== 202) return this.fail(started, `starting the upload of ${digest}`);
    await started.body?.cancel();
    // A registry without monolithic POSTs answers with a session: the bytes go in its PUT.
    let location = this.locationOf(started);
    if (!whole) {
      for (let offset = 0; offset < size; offset += chunkBytes) {
        const length = Math.min(chunkBytes, size - offset);
        const patched = await this.request("PATCH", location, {
          headers: {
            "Content-Type": "application/octet-stream",
            "Content-Range": `${offset}-${offset + length - 1}`,
          },
          body: () => read(offset, length),
        });
        if (patched.status !== 202) return this.fail(patched, `uploading ${digest} at ${offset}`);
        await patched.body?.cancel();
        this.bytesSent += length;
        location = this.locationOf(patched);
      }
    }
    const closing = new URL(location);
    closing.searchParams.set("digest", digest);
    const closed = await this.request("PUT", closing.toString(), {
      headers: { "Content-Type": "application/octet-stream", ...(whole ? {} : { "Content-Length": "0" }) },
      ...(whole ? { body: () => read(0, size) } : {}),
    });
    if (closed.status !== 201) return this.fail(closed, `completing the upload of ${digest}`);
    await closed.body?.cancel();
    if (whole) this.bytesSent += size;
  }

  /** True when the destination stored the manifest; false when it refused the tag as immutable. */
  async putManifest(reference: string, mediaType: string, bytes: Uint8Array): Promise<boolean> {
    const response = await this.request("PUT", `${this.base}/manifests/${reference}`, {
      headers: { "Content-Type": mediaType },
      body: () => Promise.resolve(bytes),
    });
    if (response.status === 201) {
      await response.body?.cancel();
      return true;
    }
    if (response.status === 400 && !reference.includes(":")) {
      const { code, text } = await describeAnswer(response);
      // ECR and this registry refuse to move an immutable tag with TAG_INVALID.
      if (code === "TAG_INVALID" || /immutable/i.test(text)) return false;
      throw new ReplicationAttemptError(
        "DESTINATION_REJECTED",
        `PUT manifest ${reference} answered 400 ${code ?? ""}: ${text}`,
      );
    }
    return this.fail(response, `PUT manifest ${reference}`);
  }

  private locationOf(response: Response): string {
    const location = response.headers.get("Location");
    if (location === null)
      throw new ReplicationAttemptError("DESTINATION_REJECTED", "an upload answer had no Location");
    return new URL(location, this.destination.endpoint).toString();
  }
}
