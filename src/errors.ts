/**
 * Error codes as data. Every failure the API reports is a `RegistryError` carrying one of the
 * descriptors below; the HTTP status belongs to the descriptor, never to the throw site, and
 * the response body is rendered in one place (`renderError` for the OCI surface).
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface ErrorDescriptor {
  /** The wire code, e.g. `BLOB_UNKNOWN`, or the `__type` of an ECR exception. */
  readonly code: string;
  readonly status: ContentfulStatusCode;
  /** Default human-readable message. */
  readonly message: string;
  /** Which body the error is rendered as: the OCI `errors` list, or AWS JSON 1.1. */
  readonly format: "oci" | "aws";
}

function describe(code: string, status: ContentfulStatusCode, message: string): ErrorDescriptor {
  return { code, status, message, format: "oci" };
}

function awsException(code: string, message: string, status: ContentfulStatusCode = 400): ErrorDescriptor {
  return { code, status, message, format: "aws" };
}

/** OCI distribution-spec v1.1 error codes, with the statuses the CNCF registry uses. */
export const OciError = {
  BLOB_UNKNOWN: describe("BLOB_UNKNOWN", 404, "blob unknown to registry"),
  BLOB_UPLOAD_INVALID: describe("BLOB_UPLOAD_INVALID", 400, "blob upload invalid"),
  BLOB_UPLOAD_UNKNOWN: describe("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry"),
  /** A blob upload declared or grew past BLOB_MAX_BYTES. */
  BLOB_TOO_LARGE: describe("SIZE_INVALID", 413, "blob exceeds the size limit"),
  /** The request body stopped arriving (REQUEST_BODY_TIMEOUT_SECONDS). */
  UPLOAD_TIMEOUT: describe("BLOB_UPLOAD_INVALID", 408, "the upload's request body stopped arriving"),
  DIGEST_INVALID: describe("DIGEST_INVALID", 400, "provided digest did not match uploaded content"),
  MANIFEST_BLOB_UNKNOWN: describe(
    "MANIFEST_BLOB_UNKNOWN",
    400,
    "manifest references a manifest or blob unknown to registry",
  ),
  MANIFEST_INVALID: describe("MANIFEST_INVALID", 400, "manifest invalid"),
  MANIFEST_TOO_LARGE: describe("SIZE_INVALID", 413, "manifest exceeds the size limit"),
  /** The request body stopped arriving (REQUEST_BODY_TIMEOUT_SECONDS). */
  MANIFEST_TIMEOUT: describe("MANIFEST_INVALID", 408, "the manifest stopped arriving"),
  MANIFEST_UNKNOWN: describe("MANIFEST_UNKNOWN", 404, "manifest unknown to registry"),
  NAME_INVALID: describe("NAME_INVALID", 400, "invalid repository name"),
  NAME_UNKNOWN: describe("NAME_UNKNOWN", 404, "repository name not known to registry"),
  PAGINATION_NUMBER_INVALID: describe("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested"),
  RANGE_INVALID: describe("RANGE_INVALID", 416, "invalid content range"),
  SIZE_INVALID: describe("SIZE_INVALID", 400, "provided length did not match content length"),
  TAG_INVALID: describe("TAG_INVALID", 400, "manifest tag did not match URI"),
  UNAUTHORIZED: describe("UNAUTHORIZED", 401, "authentication required"),
  DENIED: describe("DENIED", 403, "requested access to the resource is denied"),
  UNSUPPORTED: describe("UNSUPPORTED", 405, "the operation is unsupported"),
  TOOMANYREQUESTS: describe("TOOMANYREQUESTS", 429, "too many requests"),
  /** A pull-through cache's upstream could not be reached or failed, and nothing is cached. */
  UPSTREAM_UNAVAILABLE: describe("UNAVAILABLE", 502, "the upstream registry is unavailable"),
  /**
   * A path that names no registry resource. Not a spec code (the CNCF registry answers such
   * paths with a plain-text "404 page not found"); NAME_UNKNOWN would claim that a repository
   * does not exist.
   */
  NOT_FOUND: describe("NOT_FOUND", 404, "no such resource"),
  /** A request names a simulated location and REGISTRY_SIMULATED_GEOGRAPHY is not on (src/bench/). */
  SIMULATION_REFUSED: describe("UNSUPPORTED", 400, "simulated geography is not enabled"),
  /** The registry's own settings are wrong (a secret missing or malformed); the message names the setting. */
  MISCONFIGURED: describe("UNAVAILABLE", 503, "the registry is misconfigured"),
  UNKNOWN: describe("UNKNOWN", 500, "unknown error"),
} as const satisfies Record<string, ErrorDescriptor>;

/** Errors of the admin API, rendered in the same JSON shape. */
export const AdminError = {
  INVALID_REQUEST: describe("INVALID_REQUEST", 400, "invalid request"),
  NOT_FOUND: describe("NOT_FOUND", 404, "not found"),
  CONFLICT: describe("CONFLICT", 409, "conflict"),
  /** A request body over the admin API's limit (src/admin/input.ts). */
  TOO_LARGE: describe("TOO_LARGE", 413, "the request body is too large"),
  /** The request body stopped arriving (REQUEST_BODY_TIMEOUT_SECONDS). */
  REQUEST_TIMEOUT: describe("REQUEST_TIMEOUT", 408, "the request body stopped arriving"),
} as const satisfies Record<string, ErrorDescriptor>;

/** Errors of the token service's OAuth2 form. */
export const TokenError = {
  UNSUPPORTED_GRANT_TYPE: describe("unsupported_grant_type", 400, "unsupported grant type"),
  /** RFC 6749's code for a malformed request, e.g. more scopes than one request may ask for. */
  INVALID_REQUEST: describe("invalid_request", 400, "invalid request"),
} as const satisfies Record<string, ErrorDescriptor>;

/**
 * Exceptions of ECR's control plane (AWS JSON 1.1): `{"__type", "message"}`, HTTP 400 for a
 * client fault, 403 when the request's signature or credentials are refused, 500 only for a
 * real fault. `detail`, when an object, adds its fields to the body (e.g.
 * `lastValidByteReceived`).
 */
export const EcrError = {
  SerializationException: awsException("SerializationException", "the request body is not valid JSON"),
  UnknownOperationException: awsException("UnknownOperationException", "unknown operation"),
  InvalidParameterException: awsException("InvalidParameterException", "invalid parameter"),
  ValidationException: awsException("ValidationException", "validation failed"),
  ServerException: awsException("ServerException", "internal error", 500),
  RequestTimeoutException: awsException("RequestTimeoutException", "the request body stopped arriving", 408),
  /** OciError.MISCONFIGURED for the control plane. */
  Misconfigured: awsException("ServerException", "the registry is misconfigured", 503),
  MissingAuthenticationTokenException: awsException(
    "MissingAuthenticationTokenException",
    "Missing Authentication Token",
    403,
  ),
  IncompleteSignatureException: awsException("IncompleteSignatureException", "incomplete signature", 403),
  InvalidSignatureException: awsException("InvalidSignatureException", "the request signature does not match", 403),
  UnrecognizedClientException: awsException(
    "UnrecognizedClientException",
    "The security token included in the request is invalid.",
    403,
  ),
  AccessDeniedException: awsException("AccessDeniedException", "access denied"),
  /** AWS's common throttling error (the AWS SDKs and CLI retry it with backoff); 429 as ECR's guide shows. */
  ThrottlingException: awsException("ThrottlingException", "Rate exceeded", 429),
  RepositoryAlreadyExistsException: awsException("RepositoryAlreadyExistsException", "repository already exists"),
  RepositoryNotFoundException: awsException("RepositoryNotFoundException", "repository does not exist"),
  RepositoryNotEmptyException: awsException("RepositoryNotEmptyException", "repository contains images"),
  RepositoryPolicyNotFoundException: awsException(
    "RepositoryPolicyNotFoundException",
    "repository policy does not exist",
  ),
  RegistryPolicyNotFoundException: awsException("RegistryPolicyNotFoundException", "registry policy does not exist"),
  InvalidTagParameterException: awsException("InvalidTagParameterException", "invalid tag"),
  TooManyTagsException: awsException("TooManyTagsException", "too many tags"),
  LimitExceededException: awsException("LimitExceededException", "limit exceeded"),
  TemplateAlreadyExistsException: awsException("TemplateAlreadyExistsException", "template already exists"),
  TemplateNotFoundException: awsException("TemplateNotFoundException", "template not found"),
  ImageNotFoundException: awsException("ImageNotFoundException", "image not found"),
  ScanNotFoundException: awsException("ScanNotFoundException", "scan not found"),
  UnsupportedImageTypeException: awsException("UnsupportedImageTypeException", "unsupported image type"),
  ImageAlreadyExistsException: awsException("ImageAlreadyExistsException", "image already exists"),
  ImageTagAlreadyExistsException: awsException("ImageTagAlreadyExistsException", "image tag already exists"),
  ImageDigestDoesNotMatchException: awsException("ImageDigestDoesNotMatchException", "image digest does not match"),
  LayersNotFoundException: awsException("LayersNotFoundException", "layers not found"),
  ReferencedImagesNotFoundException: awsException("ReferencedImagesNotFoundException", "referenced images not found"),
  UploadNotFoundException: awsException("UploadNotFoundException", "upload not found"),
  InvalidLayerPartException: awsException("InvalidLayerPartException", "invalid layer part"),
  InvalidLayerException: awsException("InvalidLayerException", "invalid layer"),
  LayerPartTooSmallException: awsException("LayerPartTooSmallException", "layer part too small"),
  LayerAlreadyExistsException: awsException("LayerAlreadyExistsException", "layer already exists"),
  EmptyUploadException: awsException("EmptyUploadException", "empty upload"),
  LayerInaccessibleException: awsException("LayerInaccessibleException", "layer inaccessible"),
  PullThroughCacheRuleAlreadyExistsException: awsException(
    "PullThroughCacheRuleAlreadyExistsException",
    "pull through cache rule already exists",
  ),
  PullThroughCacheRuleNotFoundException: awsException(
    "PullThroughCacheRuleNotFoundException",
    "pull through cache rule not found",
  ),
  SecretNotFoundException: awsException("SecretNotFoundException", "secret not found"),
  UnsupportedUpstreamRegistryException: awsException(
    "UnsupportedUpstreamRegistryException",
    "unsupported upstream registry",
  ),
  LifecyclePolicyNotFoundException: awsException("LifecyclePolicyNotFoundException", "lifecycle policy not found"),
  LifecyclePolicyPreviewInProgressException: awsException(
    "LifecyclePolicyPreviewInProgressException",
    "a lifecycle policy preview is in progress",
  ),
  LifecyclePolicyPreviewNotFoundException: awsException(
    "LifecyclePolicyPreviewNotFoundException",
    "lifecycle policy preview not found",
  ),
} as const satisfies Record<string, ErrorDescriptor>;

/**
 * A setting of the Worker (a secret or var) is missing or malformed: thrown where the setting
 * is read, answered 503 with the message (which names the setting, never its value) by
 * `app.ts` onError as OciError.MISCONFIGURED or EcrError.Misconfigured, and logged.
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigurationError";
  }
}

export class RegistryError extends Error {
  readonly descriptor: ErrorDescriptor;
  readonly detail: unknown;
  /** Extra response headers the error needs (e.g. `Range` on a 416 upload error). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(descriptor: ErrorDescriptor, message?: string, detail?: unknown, headers: Record<string, string> = {}) {
    super(message ?? descriptor.message);
    this.name = "RegistryError";
    this.descriptor = descriptor;
    this.detail = detail;
    this.headers = headers;
  }

  get status(): ContentfulStatusCode {
    return this.descriptor.status;
  }
}

/**
 * Renders an error: the OCI JSON body `{"errors":[{code,message,detail}]}`, or for the
 * control plane AWS JSON 1.1's `{"__type","message"}` with `x-amzn-ErrorType`.
 */
export function renderError(error: RegistryError, method: string): Response {
  const headers = new Headers(error.headers);
  if (error.descriptor.format === "aws") {
    headers.set("Content-Type", "application/x-amz-json-1.1");
    headers.set("x-amzn-ErrorType", error.descriptor.code);
    const extra = typeof error.detail === "object" && error.detail !== null ? error.detail : {};
    const body = { ...extra, __type: error.descriptor.code, message: error.message };
    return new Response(JSON.stringify(body), { status: error.status, headers });
  }
  headers.set("Docker-Distribution-API-Version", "registry/2.0");
  if (method === "HEAD") return new Response(null, { status: error.status, headers });
  headers.set("Content-Type", "application/json");
  const body = { errors: [{ code: error.descriptor.code, message: error.message, detail: error.detail ?? null }] };
  return new Response(JSON.stringify(body), { status: error.status, headers });
}
