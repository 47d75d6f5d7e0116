/**
 * ECR layer actions through @aws-sdk/client-ecr against the running registry: a layer pushed
 * in parts is pulled through /v2 and through GetDownloadUrlForLayer's URL, and each modeled
 * exception is raised where ECR raises it.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import {
  BatchCheckLayerAvailabilityCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  InvalidLayerPartException,
  UploadLayerPartCommand,
} from "@aws-sdk/client-ecr";
import { describe, expect, inject, it } from "vitest";
import { registryFetch } from "./support/context";
import { ACCOUNT_ID, REGION, createUser, ecrClient, expectEcrError, uniqueName } from "./support/ecr";

const ecr = ecrClient();
const MIB = 1024 * 1024;

function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

async function createRepository(prefix: string): Promise<string> {
  const name = `layers/${uniqueName(prefix)}`;
  await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
  return name;
}

async function initiate(name: string): Promise<string> {
  const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: name }));
  return uploadId!;
}

function uploadPart(name: string, uploadId: string, first: number, part: Uint8Array, last = first + part.length - 1) {
  return ecr.send(
    new UploadLayerPartCommand({
      repositoryName: name,
      uploadId,
      partFirstByte: first,
      partLastByte: last,
      layerPartBlob: part,
    }),
  );
}

function complete(name: string, uploadId: string, digest: string) {
  return ecr.send(new CompleteLayerUploadCommand({ repositoryName: name, uploadId, layerDigests: [digest] }));
}

/** Pushes `layer` in one part and returns its digest. */
async function pushLayer(name: string, layer: Uint8Array): Promise<string> {
  const uploadId = await initiate(name);
  await uploadPart(name, uploadId, 0, layer);
  return (await complete(name, uploadId, digestOf(layer))).layerDigest!;
}

async function downloadUrl(name: string, digest: string): Promise<string> {
  const { downloadUrl: url, layerDigest } = await ecr.send(
    new GetDownloadUrlForLayerCommand({ repositoryName: name, layerDigest: digest }),
  );
  expect(layerDigest).toBe(digest);
  return url!;
}

/** A plain GET: no Authorization header, no SDK. */
async function plainGet(url: string): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(60_000) });
}

describe("a layer pushed in parts", () => {
  it("goes Initiate → UploadLayerPart × 3 → Complete and is pulled byte-exact via /v2 and the download URL", async () => {
    const name = await createRepository("flow");
    // Over one R2 part (8 MiB), so the session moves from a whole first object to a multipart upload.
    const layer = new Uint8Array(randomBytes(10 * MIB + 1234));
    const digest = digestOf(layer);

    const before = await ecr.send(
      new BatchCheckLayerAvailabilityCommand({ repositoryName: name, layerDigests: [digest] }),
    );
    expect(before.layers).toEqual([{ layerDigest: digest, layerAvailability: "UNAVAILABLE" }]);

    const initiated = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: name }));
    expect(initiated.uploadId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(initiated.partSize).toBeGreaterThanOrEqual(5 * MIB);
    const uploadId = initiated.uploadId!;

    const cuts = [0, 5 * MIB, 10 * MIB, layer.length];
    for (let index = 0; index + 1 < cuts.length; index++) {
      const part = layer.subarray(cuts[index], cuts[index + 1]);
      const answer = await uploadPart(name, uploadId, cuts[index]!, part);
      expect(answer).toMatchObject({
        registryId: ACCOUNT_ID,
        repositoryName: name,
        uploadId,
        lastByteReceived: cuts[index + 1]! - 1,
      });
    }

    const completed = await complete(name, uploadId, digest);
    expect(completed).toMatchObject({ registryId: ACCOUNT_ID, repositoryName: name, uploadId, layerDigest: digest });

    const after = await ecr.send(
      new BatchCheckLayerAvailabilityCommand({ repositoryName: name, layerDigests: [digest] }),
    );
    expect(after.layers).toEqual([
      {
        layerDigest: digest,
        layerAvailability: "AVAILABLE",
        layerSize: layer.length,
        mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      },
    ]);

    const viaV2 = await registryFetch("GET", `/v2/${name}/blobs/${digest}`);
    expect(viaV2.status).toBe(200);
    expect(Buffer.from(await viaV2.arrayBuffer()).equals(Buffer.from(layer))).toBe(true);

    const url = await downloadUrl(name, digest);
    expect(new URL(url).host).toBe(inject("registryHost"));
    const viaUrl = await plainGet(url);
    expect(viaUrl.status).toBe(200);
    expect(Buffer.from(await viaUrl.arrayBuffer()).equals(Buffer.from(layer))).toBe(true);

    // The session is gone once completed.
    await expectEcrError(complete(name, uploadId, digest), "UploadNotFoundException");
  });
});

describe("UploadLayerPart", () => {
  it("refuses parts that do not continue the upload with InvalidLayerPartException and lastValidByteReceived", async () => {
    const name = await createRepository("parts");
    const uploadId = await initiate(name);
    const layer = new Uint8Array(randomBytes(300));

    const early = await expectEcrError(
      uploadPart(name, uploadId, 5, layer.subarray(5, 100)),
      "InvalidLayerPartException",
    );
    expect(early).toBeInstanceOf(InvalidLayerPartException);
    expect(early).toMatchObject({ registryId: ACCOUNT_ID, repositoryName: name, uploadId, lastValidByteReceived: -1 });

    expect((await uploadPart(name, uploadId, 0, layer.subarray(0, 100))).lastByteReceived).toBe(99);

    const overlapping = await expectEcrError(
      uploadPart(name, uploadId, 50, layer.subarray(50, 200)),
      "InvalidLayerPartException",
    );
    expect(overlapping).toMatchObject({ lastValidByteReceived: 99, uploadId });
    const gap = await expectEcrError(
      uploadPart(name, uploadId, 150, layer.subarray(150, 200)),
      "InvalidLayerPartException",
    );
    expect(gap).toMatchObject({ lastValidByteReceived: 99 });
    const wrongLength = await expectEcrError(
      uploadPart(name, uploadId, 100, layer.subarray(100, 200), 250),
      "InvalidLayerPartException",
    );
    expect(wrongLength).toMatchObject({ lastValidByteReceived: 99 });
    const backwards = await expectEcrError(
      uploadPart(name, uploadId, 100, layer.subarray(100, 101), 99),
      "InvalidLayerPartException",
    );
    expect(backwards).toMatchObject({ lastValidByteReceived: 99 });

    // Refused parts changed nothing: the upload continues where it stood.
    expect((await uploadPart(name, uploadId, 100, layer.subarray(100))).lastByteReceived).toBe(299);
    expect((await complete(name, uploadId, digestOf(layer))).layerDigest).toBe(digestOf(layer));
    const pulled = await registryFetch("GET", `/v2/${name}/blobs/${digestOf(layer)}`);
    expect(Buffer.from(await pulled.arrayBuffer()).equals(Buffer.from(layer))).toBe(true);
  });

  it("answers UploadNotFoundException for an unknown upload and for another repository's", async () => {
    const name = await createRepository("unknown");
    const other = await createRepository("unknown-other");
    const part = new Uint8Array(randomBytes(10));
    await expectEcrError(uploadPart(name, randomUUID(), 0, part), "UploadNotFoundException");
    const othersUpload = await initiate(other);
    await expectEcrError(uploadPart(name, othersUpload, 0, part), "UploadNotFoundException");
    await expectEcrError(complete(name, othersUpload, digestOf(part)), "UploadNotFoundException");
    // The other repository's upload is untouched.
    expect((await uploadPart(other, othersUpload, 0, part)).lastByteReceived).toBe(9);
  });

  it("answers InvalidParameterException to an upload id that is not a UUID", async () => {
    const name = await createRepository("badid");
    await expectEcrError(uploadPart(name, "not-a-uuid", 0, new Uint8Array(1)), "InvalidParameterException");
    await expectEcrError(
      uploadPart(name, randomUUID().toUpperCase(), 0, new Uint8Array(1)),
      "InvalidParameterException",
    );
  });
});

describe("CompleteLayerUpload", () => {
  it("answers InvalidLayerException when the digest does not match, and cancels the upload", async () => {
    const name = await createRepository("mismatch");
    const uploadId = await initiate(name);
    const layer = new Uint8Array(randomBytes(1000));
    await uploadPart(name, uploadId, 0, layer);
    const wrong = digestOf(new Uint8Array(randomBytes(1000)));
    await expectEcrError(complete(name, uploadId, wrong), "InvalidLayerException");
    await expectEcrError(complete(name, uploadId, digestOf(layer)), "UploadNotFoundException");
    const check = await ecr.send(
      new BatchCheckLayerAvailabilityCommand({ repositoryName: name, layerDigests: [wrong, digestOf(layer)] }),
    );
    expect(check.layers!.map((layer) => layer.layerAvailability)).toEqual(["UNAVAILABLE", "UNAVAILABLE"]);
  });

  it("answers EmptyUploadException when no part was uploaded, and keeps the upload open", async () => {
    const name = await createRepository("empty");
    const uploadId = await initiate(name);
    const layer = new Uint8Array(randomBytes(64));
    await expectEcrError(complete(name, uploadId, digestOf(layer)), "EmptyUploadException");
    await uploadPart(name, uploadId, 0, layer);
    expect((await complete(name, uploadId, digestOf(layer))).layerDigest).toBe(digestOf(layer));
  });

  it("answers LayerAlreadyExistsException when the repository has the layer, and closes the upload", async () => {
    const name = await createRepository("exists");
    const layer = new Uint8Array(randomBytes(2048));
    const digest = await pushLayer(name, layer);
    const uploadId = await initiate(name);
    await uploadPart(name, uploadId, 0, layer);
    await expectEcrError(complete(name, uploadId, digest), "LayerAlreadyExistsException");
    await expectEcrError(complete(name, uploadId, digest), "UploadNotFoundException");
    const pulled = await registryFetch("GET", `/v2/${name}/blobs/${digest}`);
    expect(Buffer.from(await pulled.arrayBuffer()).equals(Buffer.from(layer))).toBe(true);
  });

  it("links a layer another repository already holds (no LayerAlreadyExistsException)", async () => {
    const first = await createRepository("shared-a");
    const second = await createRepository("shared-b");
    const layer = new Uint8Array(randomBytes(4096));
    const digest = await pushLayer(first, layer);
    expect(await pushLayer(second, layer)).toBe(digest);
    const pulled = await registryFetch("GET", `/v2/${second}/blobs/${digest}`);
    expect(Buffer.from(await pulled.arrayBuffer()).equals(Buffer.from(layer))).toBe(true);
  });

  it("answers InvalidParameterException unless layerDigests holds one valid digest", async () => {
    const name = await createRepository("digests");
    const uploadId = await initiate(name);
    const digest = digestOf(new Uint8Array(1));
    await expectEcrError(
      ecr.send(new CompleteLayerUploadCommand({ repositoryName: name, uploadId, layerDigests: [digest, digest] })),
      "InvalidParameterException",
    );
    await expectEcrError(complete(name, uploadId, "sha256:abc"), "InvalidParameterException");
  });
});

describe("BatchCheckLayerAvailability", () => {
  it("reports available, unavailable, invalid and missing digests in order", async () => {
    const name = await createRepository("check");
    const layer = new Uint8Array(randomBytes(777));
    const available = await pushLayer(name, layer);
    const unavailable = digestOf(new Uint8Array(randomBytes(10)));
    const answer = await ecr.send(
      new BatchCheckLayerAvailabilityCommand({
        repositoryName: name,
        layerDigests: [unavailable, "sha256:nothex", available, "md5:abc", ""],
      }),
    );
    expect(answer.layers).toEqual([
      { layerDigest: unavailable, layerAvailability: "UNAVAILABLE" },
      {
        layerDigest: available,
        layerAvailability: "AVAILABLE",
        layerSize: 777,
        mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      },
    ]);
    // vitest types its asymmetric matchers as any; held as unknown, they are used as values.
    const someReason: unknown = expect.any(String);
    expect(answer.failures).toEqual([
      { layerDigest: "sha256:nothex", failureCode: "InvalidLayerDigest", failureReason: someReason },
      { layerDigest: "md5:abc", failureCode: "InvalidLayerDigest", failureReason: someReason },
      { layerDigest: "", failureCode: "MissingLayerDigest", failureReason: someReason },
    ]);
  });

  it("does not report another repository's layers as available", async () => {
    const name = await createRepository("check-own");
    const other = await createRepository("check-other");
    const digest = await pushLayer(other, new Uint8Array(randomBytes(50)));
    const answer = await ecr.send(
      new BatchCheckLayerAvailabilityCommand({ repositoryName: name, layerDigests: [digest] }),
    );
    expect(answer.layers).toEqual([{ layerDigest: digest, layerAvailability: "UNAVAILABLE" }]);
  });
});

describe("GetDownloadUrlForLayer", () => {
  it("answers LayersNotFoundException for an unknown layer and for another repository's", async () => {
    const name = await createRepository("dl-missing");
    const other = await createRepository("dl-missing-other");
    const digest = await pushLayer(other, new Uint8Array(randomBytes(100)));
    await expectEcrError(
      ecr.send(
        new GetDownloadUrlForLayerCommand({
          repositoryName: name,
          layerDigest: digestOf(new Uint8Array(randomBytes(5))),
        }),
      ),
      "LayersNotFoundException",
    );
    await expectEcrError(
      ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: name, layerDigest: digest })),
      "LayersNotFoundException",
    );
  });

  it("mints URLs that serve only their own blob of their own repository, and only with an intact token", async () => {
    const first = await createRepository("dl-a");
    const second = await createRepository("dl-b");
    const layer = new Uint8Array(randomBytes(3000));
    const digest = await pushLayer(first, layer);
    await pushLayer(second, layer);
    const otherDigest = await pushLayer(first, new Uint8Array(randomBytes(30)));
    const url = new URL(await downloadUrl(first, digest));
    const token = url.searchParams.get("X-Registry-Token")!;
    expect(token).toBeTruthy();

    // The same token on the other repository's copy of the blob, or on another blob: refused.
    const elsewhere = new URL(url);
    elsewhere.pathname = `/v2/${second}/blobs/${digest}`;
    expect((await plainGet(elsewhere.toString())).status).toBe(403);
    const otherBlob = new URL(url);
    otherBlob.pathname = `/v2/${first}/blobs/${otherDigest}`;
    expect((await plainGet(otherBlob.toString())).status).toBe(403);

    // A token with a changed signature or claims: refused.
    const [header, claims, signature] = token.split(".") as [string, string, string];
    const flipped = signature.slice(0, 10) + (signature[10] === "A" ? "B" : "A") + signature.slice(11);
    const tampered = new URL(url);
    tampered.searchParams.set("X-Registry-Token", `${header}.${claims}.${flipped}`);
    expect((await plainGet(tampered.toString())).status).toBe(403);
    const decoded = JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...decoded, repository: second })).toString("base64url");
    const reclaimed = new URL(url);
    reclaimed.pathname = `/v2/${second}/blobs/${digest}`;
    reclaimed.searchParams.set("X-Registry-Token", `${header}.${forged}.${signature}`);
    expect((await plainGet(reclaimed.toString())).status).toBe(403);

    // The token grants nothing but this GET: not a manifest read, not a bearer token.
    const manifest = new URL(url);
    manifest.pathname = `/v2/${first}/manifests/latest`;
    expect((await plainGet(manifest.toString())).status).toBe(401);
    const asBearer = await fetch(`${inject("registryUrl")}/v2/${first}/blobs/${digest}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(asBearer.status).toBe(401);

    // Without the token the blob is not served; with it, it is.
    expect((await plainGet(`${url.origin}${url.pathname}`)).status).toBe(401);
    const served = await plainGet(url.toString());
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(Buffer.from(layer))).toBe(true);
  });
});

describe("missing repositories and authorization", () => {
  it("answers RepositoryNotFoundException for a repository that does not exist", async () => {
    const name = `layers/${uniqueName("absent")}`;
    const digest = digestOf(new Uint8Array(1));
    await expectEcrError(
      ecr.send(new InitiateLayerUploadCommand({ repositoryName: name })),
      "RepositoryNotFoundException",
    );
    await expectEcrError(
      ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: name, layerDigests: [digest] })),
      "RepositoryNotFoundException",
    );
    await expectEcrError(
      ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: name, layerDigest: digest })),
      "RepositoryNotFoundException",
    );
  });

  it("authorizes each action with its ECR action name", async () => {
    const name = await createRepository("authz");
    const layer = new Uint8Array(randomBytes(100));
    const digest = await pushLayer(name, layer);
    const credentials = await createUser(uniqueName("puller"), {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"],
          Resource: `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/${name}`,
        },
      ],
    });
    const puller = ecrClient(credentials);
    const checked = await puller.send(
      new BatchCheckLayerAvailabilityCommand({ repositoryName: name, layerDigests: [digest] }),
    );
    expect(checked.layers?.[0]?.layerAvailability).toBe("AVAILABLE");
    const { downloadUrl: url } = await puller.send(
      new GetDownloadUrlForLayerCommand({ repositoryName: name, layerDigest: digest }),
    );
    expect((await plainGet(url!)).status).toBe(200);
    await expectEcrError(
      puller.send(new InitiateLayerUploadCommand({ repositoryName: name })),
      "AccessDeniedException",
    );
    const uploadId = await initiate(name);
    await expectEcrError(
      puller.send(
        new UploadLayerPartCommand({
          repositoryName: name,
          uploadId,
          partFirstByte: 0,
          partLastByte: 0,
          layerPartBlob: new Uint8Array(1),
        }),
      ),
      "AccessDeniedException",
    );
    await expectEcrError(
      puller.send(new CompleteLayerUploadCommand({ repositoryName: name, uploadId, layerDigests: [digest] })),
      "AccessDeniedException",
    );
    const other = await createRepository("authz-other");
    await expectEcrError(
      puller.send(new GetDownloadUrlForLayerCommand({ repositoryName: other, layerDigest: digest })),
      "AccessDeniedException",
    );
  });
});
