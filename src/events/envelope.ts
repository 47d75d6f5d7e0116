/**
 * Registry events in Amazon EventBridge's envelope with ECR's detail types and detail fields,
 * so rules and receivers written for ECR's events work unchanged: "ECR Image Action" (PUSH,
 * DELETE), "ECR Image Scan", "ECR Replication Action", "ECR Pull Through Cache Action", and
 * "ECR Lifecycle Policy Action" for lifecycle expiry (ECR reports expiry only through
 * CloudTrail; this registry delivers it as an event of its own, in the same style). Pure: the
 * writers insert the envelopes in the same D1 write as the change (src/storage/event-records.ts).
 */
import type { Settings } from "../config/settings";

export interface EventEnvelope {
  version: "0";
  /** A UUID: the idempotency key a receiver gets as `webhook-id`. */
  id: string;
  "detail-type": string;
  source: "aws.ecr";
  account: string;
  /** ISO 8601 without fractional seconds, as EventBridge writes it. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** Where the events come from: the registry's account and region (ARNs and envelopes name them). */
export interface EventOrigin {
  accountId: string;
  region: string;
}

/** The origin of this registry's events, from its settings. */
export function originOf(settings: Settings): EventOrigin {
  return { accountId: settings.auth.accountId, region: settings.auth.region };
}

export const DETAIL_TYPES = {
  image: "ECR Image Action",
  scan: "ECR Image Scan",
  replication: "ECR Replication Action",
  pullThrough: "ECR Pull Through Cache Action",
  lifecycle: "ECR Lifecycle Policy Action",
} as const;

function repositoryArn(origin: EventOrigin, repository: string): string {
  return `arn:aws:ecr:${origin.region}:${origin.accountId}:repository/${repository}`;
}

function envelope(
  origin: EventOrigin,
  detailType: string,
  repository: string,
  detail: Record<string, unknown>,
  now: number,
  resources = [repositoryArn(origin, repository)],
): EventEnvelope {
  return {
    version: "0",
    id: crypto.randomUUID(),
    "detail-type": detailType,
    source: "aws.ecr",
    account: origin.accountId,
    time: new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: origin.region,
    resources,
    detail,
  };
}

/** "ECR Image Action": an image pushed or deleted (ECR's sample lists no resources). */
export function imageActionEvent(
  origin: EventOrigin,
  image: { actionType: "PUSH" | "DELETE"; repository: string; digest: string; tag: string | null },
  now: number,
): EventEnvelope {
  return envelope(
    origin,
    DETAIL_TYPES.image,
    image.repository,
    {
      result: "SUCCESS",
      "repository-name": image.repository,
      "image-digest": image.digest,
      "action-type": image.actionType,
      ...(image.tag === null ? {} : { "image-tag": image.tag }),
    },
    now,
    [],
  );
}

/** "ECR Image Scan": a basic scan ended (COMPLETE with its counts, or FAILED / UNSUPPORTED_IMAGE). */
export function imageScanEvent(
  origin: EventOrigin,
  scan: {
    repository: string;
    digest: string;
    tags: readonly string[];
    status: string;
    severityCounts: Record<string, number>;
  },
  now: number,
): EventEnvelope {
  return envelope(
    origin,
    DETAIL_TYPES.scan,
    scan.repository,
    {
      "scan-status": scan.status,
      "repository-name": scan.repository,
      "finding-severity-counts": scan.severityCounts,
      "image-digest": scan.digest,
      "image-tags": [...scan.tags],
    },
    now,
  );
}

/** "ECR Replication Action": an image copied to (or failed to reach) one destination. */
export function replicationEvent(
  origin: EventOrigin,
  item: {
    repository: string;
    digest: string;
    tag: string | null;
    result: "SUCCESS" | "FAILURE";
    destinationRegion: string;
    destinationRegistryId: string;
    failureCode?: string;
  },
  now: number,
): EventEnvelope {
  return envelope(
    origin,
    DETAIL_TYPES.replication,
    item.repository,
    {
      result: item.result,
      "repository-name": item.repository,
      "image-digest": item.digest,
      "source-account": origin.accountId,
      "action-type": "REPLICATE",
      "source-region": origin.region,
      "destination-account": item.destinationRegistryId,
      "destination-region": item.destinationRegion,
      ...(item.tag === null ? {} : { "image-tag": item.tag }),
      ...(item.failureCode === undefined ? {} : { "failure-code": item.failureCode }),
    },
    now,
  );
}

/** "ECR Pull Through Cache Action": an image cached from its upstream. */
export function pullThroughCacheEvent(
  origin: EventOrigin,
  sync: { prefix: string; repository: string; upstreamUrl: string; tag: string | null; digest: string },
  now: number,
): EventEnvelope {
  return envelope(
    origin,
    DETAIL_TYPES.pullThrough,
    sync.repository,
    {
      "rule-version": "1",
      "sync-status": "SUCCESS",
      "ecr-repository-prefix": sync.prefix,
      "repository-name": sync.repository,
      "upstream-registry-url": sync.upstreamUrl,
      ...(sync.tag === null ? {} : { "image-tag": sync.tag }),
      "image-digest": sync.digest,
    },
    now,
  );
}

/** "ECR Lifecycle Policy Action": an image expired by a lifecycle rule. */
export function lifecycleExpiryEvent(
  origin: EventOrigin,
  expiry: { repository: string; digest: string; tags: readonly string[]; rulePriority: number | null },
  now: number,
): EventEnvelope {
  return envelope(
    origin,
    DETAIL_TYPES.lifecycle,
    expiry.repository,
    {
      result: "SUCCESS",
      "action-type": "EXPIRE",
      "repository-name": expiry.repository,
      "image-digest": expiry.digest,
      "image-tags": [...expiry.tags],
      "rule-priority": expiry.rulePriority,
    },
    now,
  );
}
