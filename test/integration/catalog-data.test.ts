/**
 * ECR Public's repository catalog data on the control plane (`SpencerFrontendService.` targets,
 * signed for `ecr-public`): the round trip, ECR Public's input limits, unknown repositories,
 * authorization, the cascade on DeleteRepository, and the logo kept out of the audit trail.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/storage/database";
import { findCatalogSummaries } from "../../src/storage/catalog-records";
import { recordOf } from "../support/audit";
import { ECR_PUBLIC, ecr, ecrCall, ecrPublicCall, type EcrResult } from "../support/ecr";
import { allowPolicy, createUser, ORIGIN } from "../support/registry";

/** A 1×1 PNG. */
const PNG_LOGO = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

function base64Of(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** `size` bytes that start with `prefix` (the rest zero). */
function bytesStartingWith(prefix: number[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(prefix);
  return bytes;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff, 0xe0];

const FULL_CATALOG = {
  description: "A small web server",
  architectures: ["ARM 64", "x86-64"],
  operatingSystems: ["Linux"],
  logoImageBlob: PNG_LOGO,
  aboutText: "## About\n\nServes *pages*.",
  usageText: "```\ndocker run app\n```",
};

async function createRepository(name: string): Promise<void> {
  await ecr("CreateRepository", { repositoryName: name });
}

function putCatalog(name: string, catalogData: unknown): Promise<EcrResult> {
  return ecrPublicCall("PutRepositoryCatalogData", { repositoryName: name, catalogData });
}

function getCatalog(name: string): Promise<EcrResult> {
  return ecrPublicCall("GetRepositoryCatalogData", { repositoryName: name });
}

async function storedRows(name: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM repository_catalog_data WHERE repository = ?")
    .bind(name)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("PutRepositoryCatalogData and GetRepositoryCatalogData", () => {
  it("round-trips every member, the logo answered as a URL of the web surface", async () => {
    await createRepository("team/web");
    const expected = {
      description: FULL_CATALOG.description,
      architectures: FULL_CATALOG.architectures,
      operatingSystems: FULL_CATALOG.operatingSystems,
      logoUrl: `${ORIGIN}/gallery-logo/team/web`,
      aboutText: FULL_CATALOG.aboutText,
      usageText: FULL_CATALOG.usageText,
    };
    const put = await putCatalog("team/web", FULL_CATALOG);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual({ catalogData: expected });
    const got = await getCatalog("team/web");
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect(got.body).toEqual({ catalogData: expected });
    expect(await storedRows("team/web")).toBe(1);
  });

  it("answers an empty catalogData for a repository never given any", async () => {
    await createRepository("plain");
    expect(await getCatalog("plain")).toMatchObject({ status: 200, body: { catalogData: {} } });
  });

  it("replaces the catalog data on each put (a put without a logo drops it)", async () => {
    await createRepository("replaced");
    expect((await putCatalog("replaced", FULL_CATALOG)).status).toBe(200);
    const second = await putCatalog("replaced", { description: "second" });
    expect(second.body).toEqual({ catalogData: { description: "second" } });
    expect((await getCatalog("replaced")).body).toEqual({ catalogData: { description: "second" } });
  });

  it("keeps architectures and operating systems beyond the gallery's badges, as ECR Public does", async () => {
    await createRepository("badges");
    const put = await putCatalog("badges", { architectures: ["RISC-V", "x86"], operatingSystems: ["FreeBSD"] });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await getCatalog("badges")).body).toEqual({
      catalogData: { architectures: ["RISC-V", "x86"], operatingSystems: ["FreeBSD"] },
    });
  });

  it("takes a JPEG logo, and a logo of exactly 512,000 bytes", async () => {
    await createRepository("logos");
    const jpeg = await putCatalog("logos", { logoImageBlob: base64Of(bytesStartingWith(JPEG_SIGNATURE, 64)) });
    expect(jpeg.status, JSON.stringify(jpeg.body)).toBe(200);
    const largest = await putCatalog("logos", { logoImageBlob: base64Of(bytesStartingWith(PNG_SIGNATURE, 512_000)) });
    expect(largest.status, JSON.stringify(largest.body)).toBe(200);
    expect(largest.body).toEqual({ catalogData: { logoUrl: `${ORIGIN}/gallery-logo/logos` } });
  });

  it("lists summaries for the gallery without the logo's bytes", async () => {
    await createRepository("listed-a");
    await createRepository("listed-b");
    await putCatalog("listed-a", FULL_CATALOG);
    await putCatalog("listed-b", { description: "no logo" });
    const summaries = await findCatalogSummaries(database(env.DB), ["listed-a", "listed-b", "missing"]);
    expect([...summaries.keys()].sort()).toEqual(["listed-a", "listed-b"]);
    expect(summaries.get("listed-a")).toEqual({
      description: FULL_CATALOG.description,
      architectures: FULL_CATALOG.architectures,
      operatingSystems: FULL_CATALOG.operatingSystems,
      aboutText: FULL_CATALOG.aboutText,
      usageText: FULL_CATALOG.usageText,
      logoMediaType: "image/png",
      hasLogo: true,
    });
    expect(summaries.get("listed-b")).toEqual({ description: "no logo", hasLogo: false });
  });
});

describe("input validation", () => {
  const tooLongBadge = "x".repeat(51);
  const refusals: [string, Record<string, unknown>][] = [
    ["a description over 1024 characters", { catalogData: { description: "d".repeat(1025) } }],
    ["an aboutText over 25,600 characters", { catalogData: { aboutText: "a".repeat(25_601) } }],
    ["a usageText over 25,600 characters", { catalogData: { usageText: "u".repeat(25_601) } }],
    ["51 architectures", { catalogData: { architectures: Array.from({ length: 51 }, () => "ARM") } }],
    ["an empty architecture", { catalogData: { architectures: [""] } }],
    ["an architecture over 50 characters", { catalogData: { architectures: [tooLongBadge] } }],
    ["51 operating systems", { catalogData: { operatingSystems: Array.from({ length: 51 }, () => "Linux") } }],
    ["an operating system that is not a string", { catalogData: { operatingSystems: [7] } }],
    ["a description that is not a string", { catalogData: { description: 5 } }],
    ["a logo that is not base64", { catalogData: { logoImageBlob: "not base64!" } }],
    ["a logo that is a GIF", { catalogData: { logoImageBlob: btoa("GIF89a\x01\x00\x01\x00") } }],
    [
      "a logo over 512,000 bytes",
      { catalogData: { logoImageBlob: base64Of(bytesStartingWith(PNG_SIGNATURE, 512_001)) } },
    ],
    ["no catalogData", {}],
    ["a catalogData that is not an object", { catalogData: "text" }],
  ];

  it.each(refusals)("refuses %s with InvalidParameterException", async (_what, input) => {
    await createRepository("validated");
    const result = await ecrPublicCall("PutRepositoryCatalogData", { repositoryName: "validated", ...input });
    expect(result.status, JSON.stringify(result.body)).toBe(400);
    expect(result.type).toBe("InvalidParameterException");
    expect(await storedRows("validated")).toBe(0);
  });

  it.each([
    ["an invalid repository name", { repositoryName: "Upper/Case" }],
    ["a repository name over 205 characters", { repositoryName: "a".repeat(206) }],
    ["another registry's id", { repositoryName: "validated", registryId: "999999999999" }],
  ])("refuses %s with InvalidParameterException", async (_what, input) => {
    for (const action of ["PutRepositoryCatalogData", "GetRepositoryCatalogData"]) {
      const result = await ecrPublicCall(action, { ...input, catalogData: {} });
      expect(result.status, JSON.stringify(result.body)).toBe(400);
      expect(result.type).toBe("InvalidParameterException");
    }
  });
});

describe("unknown repositories", () => {
  it("answers RepositoryNotFoundException to a put and a get, and stores nothing", async () => {
    const put = await putCatalog("never/created", FULL_CATALOG);
    expect(put.status, JSON.stringify(put.body)).toBe(400);
    expect(put.type).toBe("RepositoryNotFoundException");
    expect(await storedRows("never/created")).toBe(0);
    const got = await getCatalog("never/created");
    expect(got.type).toBe("RepositoryNotFoundException");
  });
});

describe("authorization", () => {
  it("asks for ecr-public:PutRepositoryCatalogData and ecr-public:GetRepositoryCatalogData", async () => {
    await createRepository("guarded");
    const reader = await createUser("catalog-reader", allowPolicy(["ecr-public:GetRepositoryCatalogData"]));
    const refused = await ecrPublicCall(
      "PutRepositoryCatalogData",
      { repositoryName: "guarded", catalogData: { description: "x" } },
      reader,
    );
    expect(refused.type, JSON.stringify(refused.body)).toBe("AccessDeniedException");
    expect(String(refused.body.message)).toContain("ecr-public:PutRepositoryCatalogData");
    expect(await storedRows("guarded")).toBe(0);
    expect(await ecrPublicCall("GetRepositoryCatalogData", { repositoryName: "guarded" }, reader)).toMatchObject({
      status: 200,
      body: { catalogData: {} },
    });

    // ecr:* is ECR's, not ECR Public's.
    const ecrOnly = await createUser("ecr-only", allowPolicy(["ecr:*"]));
    const denied = await ecrPublicCall("GetRepositoryCatalogData", { repositoryName: "guarded" }, ecrOnly);
    expect(denied.type, JSON.stringify(denied.body)).toBe("AccessDeniedException");
  });
});

describe("signing and dispatch", () => {
  it("refuses ECR Public's actions signed for ecr, and ECR's signed for ecr-public", async () => {
    await createRepository("signed");
    const wrongService = await ecrCall(
      "GetRepositoryCatalogData",
      { repositoryName: "signed" },
      undefined,
      {},
      {
        targetPrefix: ECR_PUBLIC.targetPrefix,
        service: "ecr",
      },
    );
    expect(wrongService.status, JSON.stringify(wrongService.body)).toBe(403);
    expect(wrongService.type).toBe("InvalidSignatureException");
    const ecrSignedPublic = await ecrCall("DescribeRepositories", {}, undefined, {}, { service: "ecr-public" });
    expect(ecrSignedPublic.status).toBe(403);
    expect(ecrSignedPublic.type).toBe("InvalidSignatureException");
  });

  it("serves only the catalog actions under ECR Public's prefix, and not them under ECR's", async () => {
    expect((await ecrPublicCall("CreateRepository", { repositoryName: "nope" })).type).toBe(
      "UnknownOperationException",
    );
    expect((await ecrCall("GetRepositoryCatalogData", { repositoryName: "nope" })).type).toBe(
      "UnknownOperationException",
    );
  });
});

describe("repository deletion", () => {
  it("removes the catalog data with the repository", async () => {
    await createRepository("deleted");
    expect((await putCatalog("deleted", FULL_CATALOG)).status).toBe(200);
    expect(await storedRows("deleted")).toBe(1);
    await ecr("DeleteRepository", { repositoryName: "deleted" });
    expect(await storedRows("deleted")).toBe(0);
    await createRepository("deleted");
    expect((await getCatalog("deleted")).body).toEqual({ catalogData: {} });
  });
});

describe("audit trail", () => {
  it("records the put's parameters without the logo's bytes", async () => {
    await createRepository("audited");
    const put = await putCatalog("audited", FULL_CATALOG);
    expect(put.status).toBe(200);
    const record = await recordOf(put.requestId);
    expect(record.eventName).toBe("PutRepositoryCatalogData");
    expect(record.readOnly).toBe(false);
    expect(record.requestParameters).toEqual({
      repositoryName: "audited",
      catalogData: {
        description: FULL_CATALOG.description,
        architectures: FULL_CATALOG.architectures,
        operatingSystems: FULL_CATALOG.operatingSystems,
        aboutText: FULL_CATALOG.aboutText,
        usageText: FULL_CATALOG.usageText,
      },
    });
    expect(JSON.stringify(record)).not.toContain(PNG_LOGO.slice(0, 40));
  });
});
