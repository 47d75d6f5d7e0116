import { describe, expect, it } from "vitest";
import {
  imageActionEvent,
  imageScanEvent,
  lifecycleExpiryEvent,
  originOf,
  pullThroughCacheEvent,
  replicationEvent,
} from "./envelope";
import { parseSettings } from "../config/settings";

const origin = { accountId: "123456789012", region: "eu-west-1" };
const now = Date.UTC(2026, 11, 4, 1, 54, 34, 500);
const repositoryArn = "arn:aws:ecr:eu-west-1:123456789012:repository/team-a/web";

describe("event envelopes", () => {
  it("wraps a push as EventBridge does ECR's, with a fresh id each time", () => {
    const event = imageActionEvent(
      origin,
      { actionType: "PUSH", repository: "team-a/web", digest: "sha256:a", tag: "v1" },
      now,
    );
    expect(event).toEqual({
      version: "0",
      id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      "detail-type": "ECR Image Action",
      source: "aws.ecr",
      account: "123456789012",
      time: "2026-12-04T01:54:34Z",
      region: "eu-west-1",
      resources: [],
      detail: {
        result: "SUCCESS",
        "repository-name": "team-a/web",
        "image-digest": "sha256:a",
        "action-type": "PUSH",
        "image-tag": "v1",
      },
    });
    expect(
      imageActionEvent(origin, { actionType: "DELETE", repository: "r", digest: "d", tag: null }, now).id,
    ).not.toBe(event.id);
    expect(
      imageActionEvent(origin, { actionType: "DELETE", repository: "r", digest: "d", tag: null }, now).detail,
    ).not.toHaveProperty("image-tag");
  });

  it("names the repository as the resource of scans, replications, imports and expiries", () => {
    const scan = imageScanEvent(
      origin,
      { repository: "team-a/web", digest: "d", tags: ["v1"], status: "COMPLETE", severityCounts: { HIGH: 2 } },
      now,
    );
    expect(scan).toMatchObject({
      "detail-type": "ECR Image Scan",
      resources: [repositoryArn],
      detail: { "scan-status": "COMPLETE", "finding-severity-counts": { HIGH: 2 }, "image-tags": ["v1"] },
    });
    const replication = replicationEvent(
      origin,
      {
        repository: "team-a/web",
        digest: "d",
        tag: null,
        result: "FAILURE",
        destinationRegion: "us-west-2",
        destinationRegistryId: "222222222222",
        failureCode: "REGISTRY_POLICY_DENIED",
      },
      now,
    );
    expect(replication).toMatchObject({
      "detail-type": "ECR Replication Action",
      resources: [repositoryArn],
      detail: {
        result: "FAILURE",
        "action-type": "REPLICATE",
        "source-account": "123456789012",
        "source-region": "eu-west-1",
        "destination-account": "222222222222",
        "failure-code": "REGISTRY_POLICY_DENIED",
      },
    });
    expect(
      pullThroughCacheEvent(
        origin,
        {
          prefix: "hub",
          repository: "hub/library/alpine",
          upstreamUrl: "https://registry-1.docker.io/library/alpine",
          tag: "3",
          digest: "d",
        },
        now,
      ).detail,
    ).toMatchObject({ "sync-status": "SUCCESS", "ecr-repository-prefix": "hub", "image-tag": "3" });
    expect(
      lifecycleExpiryEvent(origin, { repository: "team-a/web", digest: "d", tags: [], rulePriority: 2 }, now).detail,
    ).toMatchObject({ "action-type": "EXPIRE", "rule-priority": 2 });
  });

  it("takes its origin from the settings", () => {
    expect(originOf(parseSettings({ REGISTRY_ACCOUNT_ID: "111122223333", REGISTRY_REGION: "ap-south-1" }))).toEqual({
      accountId: "111122223333",
      region: "ap-south-1",
    });
  });
});
