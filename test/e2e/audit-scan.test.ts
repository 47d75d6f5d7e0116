/**
 * The global teardown's secret scan of the audit trail (support/audit-scan.ts) finds what it
 * must and nothing else: served here by a stand-in admin API on 127.0.0.1 in two pages.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretsInAuditTrail } from "./support/audit-scan";

const clean = {
  eventID: "clean",
  eventName: "PutImage",
  requestParameters: {
    repositoryName: "team-a/web",
    imageDigest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    uploadId: "0f8fad5b-d9cb-469f-a165-70867728950e",
    accessKeyId: "AKIAIOSFODNN7EXAMPLEABCD",
    secretAccessKey: "HIDDEN_DUE_TO_SECURITY_REASONS",
    // A pagination cursor (base64 JSON) may look like a key's secret: it is not one.
    nextToken: "bGFzdD10ZWFtLWEvd2ViLWFwcC0wMDEmbj0xMDA0",
  },
};
const leaks = [
  { eventID: "jwt", eventName: "x", requestParameters: { t: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2ln" } },
  { eventID: "webhook", eventName: "x", requestParameters: { s: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } },
  { eventID: "key", eventName: "x", requestParameters: { k: "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12" } },
  { eventID: "known", eventName: "x", requestParameters: { k: "the-registry-secret-value" } },
];

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const second = request.url?.includes("nextToken=2") ?? false;
    response.setHeader("Content-Type", "application/json");
    response.end(JSON.stringify(second ? { events: leaks } : { events: [clean], nextToken: "2" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the audit trail's secret scan", () => {
  it("reads every page and reports each kind of secret, and nothing in a clean record", async () => {
    const scan = await secretsInAuditTrail(url, "Basic x", ["the-registry-secret-value"]);
    expect(scan.records).toBe(5);
    expect(scan.findings.map((finding) => finding.split(/[ :]/)[0])).toEqual(["jwt", "webhook", "key", "known"]);
  });
});
