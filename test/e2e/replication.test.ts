/**
 * Cross-registry replication between three registries started with `npm start` (each its own
 * account, port and state directory), their crons running every 2 seconds:
 *   A (111111111111) → B (222222222222) → C (333333333333)
 * A reaches B through a counting proxy (test/e2e/support/counting-proxy.ts), which tells how
 * many blob bytes B received. A's configuration is put with the AWS CLI, the rest with the SDK.
 * Checked: ten images (single-arch, a multi-arch index, a referrer, one with a 1 GiB layer)
 * arrive in B with identical digests and are COMPLETE; no blob is sent twice; B stopped means
 * IN_PROGRESS and retries until it is back; B's registry policy refusing a repository means
 * FAILED with REGISTRY_POLICY_DENIED while A's push succeeds; A's images never reach C; a
 * deletion in A leaves B's copy; an immutable tag in B is not moved.
 */
import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  CreateRepositoryCreationTemplateCommand,
  DescribeRepositoriesCommand,
  DescribeImageReplicationStatusCommand,
  ECRClient,
  PutRegistryPolicyCommand,
  PutReplicationConfigurationCommand,
  type ImageReplicationStatus,
} from "@aws-sdk/client-ecr";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildLayout, MiB } from "../../bench/lib/images.mjs";
import { startCountingProxy, type CountingProxy } from "./support/counting-proxy";
import { buildMultiArchLayout, buildSingleArchLayout, sha256 } from "./support/image-builder";
import { readLog, startRegistryProcess, type RegistryProcess } from "./support/registry-process";
import { describeRun, runSkopeo } from "./support/skopeo";

const A_ID = "111111111111";
const B_ID = "222222222222";
const C_ID = "333333333333";
const REGION = "us-east-1";

interface Registry {
  name: string;
  account: string;
  process: RegistryProcess;
  stateDir: string;
  logPath: string;
  ecr: ECRClient;
  creds: string;
}

/** This file's scratch directory (states, logs, layouts), under the run's; removed with it. */
const scratch = { path: "" };
let a: Registry;
let b: Registry;
let c: Registry;
let proxy: CountingProxy;

async function start(
  name: string,
  account: string,
  reuse?: Registry,
  env: Record<string, string> = {},
): Promise<Registry> {
  const stateDir = reuse?.stateDir ?? join(scratch.path, name, "state");
  const logPath = reuse?.logPath ?? join(scratch.path, `${name}.log`);
  await mkdir(stateDir, { recursive: true });
  const started = await startRegistryProcess(stateDir, logPath, {
    ...(reuse ? { port: reuse.process.port, secrets: reuse.process.secrets } : {}),
    env: { REGISTRY_ACCOUNT_ID: account, REGISTRY_CRON_INTERVAL_SECONDS: "2", REPLICATION_RETRY_SECONDS: "2", ...env },
  });
  const credentials = { accessKeyId: started.secrets.adminAccessKeyId, secretAccessKey: started.secrets.adminSecret };
  return {
    name,
    account,
    process: started,
    stateDir,
    logPath,
    ecr: new ECRClient({ endpoint: started.url, region: REGION, credentials, maxAttempts: 1 }),
    creds: `${credentials.accessKeyId}:${credentials.secretAccessKey}`,
  };
}

async function admin(registry: Registry, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${registry.process.url}${path}`, {
    method,
    headers: {
      Authorization: registry.process.adminAuthorization,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** `destination` may replicate into `registry`: a peer key for its account and a registry policy. */
async function trust(registry: Registry, source: Registry, endpoint: string, deniedPrefix?: string): Promise<void> {
  const created = await admin(registry, "PUT", `/admin/peer-accounts/${source.account}`);
  expect(created.status, await created.clone().text()).toBe(201);
  const key = (await created.json()) as { accessKeyId: string; secretAccessKey: string };
  const statements: object[] = [
    {
      Sid: "ReplicationFrom",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${source.account}:root` },
      Action: ["ecr:ReplicateImage", "ecr:CreateRepository"],
      Resource: `arn:aws:ecr:${REGION}:${registry.account}:repository/*`,
    },
  ];
  if (deniedPrefix !== undefined)
    statements.push({
      Effect: "Deny",
      Principal: { AWS: source.account },
      Action: "ecr:ReplicateImage",
      Resource: `arn:aws:ecr:${REGION}:${registry.account}:repository/${deniedPrefix}*`,
    });
  await registry.ecr.send(
    new PutRegistryPolicyCommand({ policyText: JSON.stringify({ Version: "2012-10-17", Statement: statements }) }),
  );
  const destination = await admin(source, "PUT", `/admin/replication/destinations/${registry.account}`, {
    endpoint,
    username: key.accessKeyId,
    password: key.secretAccessKey,
  });
  expect(destination.status, await destination.clone().text()).toBe(200);
}

function awsCli(registry: Registry, args: string[]): Promise<{ code: number; output: string }> {
  const [accessKeyId, secretAccessKey] = registry.creds.split(":") as [string, string];
  return new Promise((resolve) => {
    execFile(
      "/usr/bin/aws",
      [...args, "--endpoint-url", registry.process.url, "--region", REGION, "--output", "json"],
      {
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: scratch.path,
          AWS_ACCESS_KEY_ID: accessKeyId,
          AWS_SECRET_ACCESS_KEY: secretAccessKey,
          AWS_PAGER: "",
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` }),
    );
  });
}

function ref(registry: Registry, repository: string, reference: string): string {
  const suffix = reference.includes(":") ? `@${reference}` : `:${reference}`;
  return `docker://127.0.0.1:${registry.process.port}/${repository}${suffix}`;
}

async function push(source: string, registry: Registry, repository: string, tag: string): Promise<void> {
  const result = await runSkopeo(
    [
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      registry.creds,
      "--all",
      source,
      ref(registry, repository, tag),
    ],
    { timeoutMs: 300_000 },
  );
  expect(result.code, describeRun(result)).toBe(0);
}

/** The digest skopeo reads for the reference in `registry` (its manifest's sha256), or null when absent. */
async function digestIn(registry: Registry, repository: string, reference: string): Promise<string | null> {
  const result = await runSkopeo([
    "inspect",
    "--raw",
    "--tls-verify=false",
    "--creds",
    registry.creds,
    ref(registry, repository, reference),
  ]);
  return result.code === 0 ? sha256(result.stdout) : null;
}

async function statusOf(registry: Registry, repository: string, digest: string): Promise<ImageReplicationStatus[]> {
  const described = await registry.ecr.send(
    new DescribeImageReplicationStatusCommand({ repositoryName: repository, imageId: { imageDigest: digest } }),
  );
  return described.replicationStatuses ?? [];
}

/** Waits until the image's replication to `destination` is no longer IN_PROGRESS; returns its status. */
async function settled(
  registry: Registry,
  repository: string,
  digest: string,
  destination: string,
  timeoutMs = 120_000,
): Promise<ImageReplicationStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: ImageReplicationStatus | undefined;
  while (Date.now() < deadline) {
    last = (await statusOf(registry, repository, digest)).find((status) => status.registryId === destination);
    if (last !== undefined && last.status !== "IN_PROGRESS") return last;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(
    `${repository}@${digest} is still ${JSON.stringify(last)} after ${timeoutMs} ms\n--- ${registry.name} log ---\n${readLog(registry.logPath).split("\n").slice(-40).join("\n")}`,
  );
}

/** The blobs (configs and layers) of an image as `registry` stores it, with their sizes; an index's children's too. */
async function blobSizesIn(registry: Registry, repository: string, digest: string): Promise<Map<string, number>> {
  const response = await fetch(`${registry.process.url}/v2/${repository}/manifests/${digest}`, {
    headers: {
      Authorization: registry.process.adminAuthorization,
      Accept: "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json",
    },
  });
  expect(response.status).toBe(200);
  const manifest = (await response.json()) as {
    config?: { digest: string; size: number };
    layers?: { digest: string; size: number }[];
    manifests?: { digest: string }[];
  };
  const sizes = new Map<string, number>();
  for (const blob of [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])])
    sizes.set(blob.digest, blob.size);
  for (const child of manifest.manifests ?? [])
    for (const [blob, size] of await blobSizesIn(registry, repository, child.digest)) sizes.set(blob, size);
  return sizes;
}

/** Pushes a referrer (an artifact whose subject is `subject`) over HTTP; returns its digest. */
async function pushReferrer(registry: Registry, repository: string, subject: { digest: string; size: number }) {
  const signature = Buffer.from(`signature of ${subject.digest}`);
  const empty = Buffer.from("{}");
  for (const blob of [signature, empty]) {
    const response = await fetch(`${registry.process.url}/v2/${repository}/blobs/uploads/?digest=${sha256(blob)}`, {
      method: "POST",
      headers: { Authorization: registry.process.adminAuthorization },
      body: blob,
    });
    expect(response.status).toBe(201);
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: "application/vnd.example.signature",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256(empty), size: empty.length },
      layers: [{ mediaType: "application/vnd.example.signature", digest: sha256(signature), size: signature.length }],
      subject: { mediaType: "application/vnd.oci.image.manifest.v1+json", ...subject },
    }),
  );
  const digest = sha256(manifest);
  const put = await fetch(`${registry.process.url}/v2/${repository}/manifests/${digest}`, {
    method: "PUT",
    headers: {
      Authorization: registry.process.adminAuthorization,
      "Content-Type": "application/vnd.oci.image.manifest.v1+json",
    },
    body: manifest,
  });
  expect(put.status, await put.text()).toBe(201);
  return { digest };
}

beforeAll(async () => {
  scratch.path = await mkdtemp(join(inject("e2eTempDir"), "replication-"));
  // C refuses to create repositories on push, as ECR does, unless a CREATE_ON_PUSH template covers them.
  [b, c] = await Promise.all([start("b", B_ID), start("c", C_ID, undefined, { CREATE_ON_PUSH: "template" })]);
  proxy = await startCountingProxy(b.process.port);
  a = await start("a", A_ID);
  await trust(b, a, proxy.url, "denied/");
  await trust(c, b, c.process.url);
  const configuration = JSON.stringify({ rules: [{ destinations: [{ region: REGION, registryId: B_ID }] }] });
  const cli = await awsCli(a, ["ecr", "put-replication-configuration", "--replication-configuration", configuration]);
  expect(cli.code, cli.output).toBe(0);
  expect(JSON.parse(cli.output.split("\n\n")[0] ?? cli.output)).toMatchObject({
    replicationConfiguration: { rules: [{ destinations: [{ registryId: B_ID }] }] },
  });
  await b.ecr.send(
    new PutReplicationConfigurationCommand({
      replicationConfiguration: { rules: [{ destinations: [{ region: REGION, registryId: C_ID }] }] },
    }),
  );
}, 300_000);

afterAll(async () => {
  await Promise.all([a, b, c].filter((registry) => registry !== undefined).map((registry) => registry.process.stop()));
  await proxy?.close();
  if (scratch.path !== "" && process.env.E2E_KEEP_STATE === undefined)
    await rm(scratch.path, { recursive: true, force: true });
});

describe("replication from A to B", () => {
  it("copies ten images (single-arch, multi-arch, a referrer, a 1 GiB layer) with identical digests, each blob once", async () => {
    const images: { repository: string; tag: string | null; digest: string }[] = [];
    for (let i = 0; i < 7; i += 1) {
      const layout = await buildSingleArchLayout({
        seed: `replication-${i}`,
        layers: [{ size: 3000 + i }, { size: 9000 }],
        tag: "v1",
        dir: join(scratch.path, `single-${i}`),
      });
      await push(`oci:${layout.path}:v1`, a, `team/app-${i}`, "v1");
      images.push({ repository: `team/app-${i}`, tag: "v1", digest: layout.manifestDigest });
    }
    const multi = await buildMultiArchLayout({
      seed: "replication-multi",
      tag: "v1",
      layers: [{ size: 5000 }],
      dir: join(scratch.path, "multi"),
    });
    await push(`oci:${multi.path}:v1`, a, "team/multi", "v1");
    images.push({ repository: "team/multi", tag: "v1", digest: multi.indexDigest });
    const subject = images[0]!;
    const subjectSize = (
      await fetch(`${a.process.url}/v2/${subject.repository}/manifests/v1`, {
        method: "HEAD",
        headers: { Authorization: a.process.adminAuthorization, Accept: "application/vnd.oci.image.manifest.v1+json" },
      })
    ).headers.get("Content-Length");
    const referrer = await pushReferrer(a, subject.repository, { digest: subject.digest, size: Number(subjectSize) });
    images.push({ repository: subject.repository, tag: null, digest: referrer.digest });
    const big = await buildLayout(join(scratch.path, "big"), [1024 * MiB], "v1");
    await push(big.ref, a, "team/big", "v1");
    // skopeo may write the manifest anew; the digest is what A stores.
    const bigDigest = await digestIn(a, "team/big", "v1");
    expect(bigDigest).not.toBeNull();
    images.push({ repository: "team/big", tag: "v1", digest: bigDigest! });
    expect(images).toHaveLength(10);
    // What B should receive: every blob of every image once, sized as A stores them (skopeo
    // compresses the big layer on its way to A).
    const blobs = new Map<string, number>();
    for (const image of images)
      for (const [digest, size] of await blobSizesIn(a, image.repository, image.digest)) blobs.set(digest, size);
    const blobBytes = [...blobs.values()].reduce((sum, size) => sum + size, 0);

    for (const image of images) {
      const status = await settled(a, image.repository, image.digest, B_ID, 300_000);
      expect(status, `${image.repository}@${image.digest}`).toEqual({
        region: REGION,
        registryId: B_ID,
        status: "COMPLETE",
      });
    }
    for (const [index, image] of images.entries()) {
      expect(await digestIn(b, image.repository, image.digest), image.repository).toBe(image.digest);
      if (image.tag !== null)
        expect(await digestIn(b, image.repository, image.tag), image.repository).toBe(image.digest);
      if (image.repository === "team/big") continue;
      // Pulled whole from B (skopeo checks every blob's digest; --all takes every platform of the index).
      const pulledSmall = await runSkopeo([
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        b.creds,
        ref(b, image.repository, image.digest),
        `oci:${join(scratch.path, `pulled-${index}`)}:x`,
      ]);
      expect(pulledSmall.code, describeRun(pulledSmall)).toBe(0);
    }
    // Pulled in full from B with skopeo: the 1 GiB image, byte for byte (skopeo checks every digest).
    const pulled = await runSkopeo(
      [
        "copy",
        "--src-tls-verify=false",
        "--src-creds",
        b.creds,
        ref(b, "team/big", "v1"),
        `oci:${join(scratch.path, "pulled")}:v1`,
      ],
      { timeoutMs: 300_000 },
    );
    expect(pulled.code, describeRun(pulled)).toBe(0);
    const referrers = await fetch(`${b.process.url}/v2/${subject.repository}/referrers/${subject.digest}`, {
      headers: { Authorization: b.process.adminAuthorization },
    });
    expect(((await referrers.json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest)).toEqual([
      referrer.digest,
    ]);
    // Every blob once: the layers the platform images of the index share with nothing are sent once too.
    expect(proxy.uploadedBytes).toBe(blobBytes);
  });

  it("keeps an image IN_PROGRESS while B is stopped, retries, and completes once B is back, sending each blob once (in chunks)", async () => {
    // From here on A sends B blobs over 5 MiB in 5 MiB chunks (a destination behind a body limit).
    const key = (await (await admin(b, "PUT", `/admin/peer-accounts/${A_ID}`)).json()) as {
      accessKeyId: string;
      secretAccessKey: string;
    };
    const chunked = await admin(a, "PUT", `/admin/replication/destinations/${B_ID}`, {
      endpoint: proxy.url,
      username: key.accessKeyId,
      password: key.secretAccessKey,
      chunkBytes: 5 * MiB,
    });
    expect(await chunked.json()).toMatchObject({ registryId: B_ID, chunkBytes: 5 * MiB });
    const before = proxy.uploadedBytes;
    await b.process.stop();
    let restarted = false;
    try {
      const layout = await buildSingleArchLayout({
        seed: "replication-while-down",
        // A 12 MiB layer (three chunks; random bytes stay as large when skopeo compresses them) and a small one.
        layers: [{ size: 12 * MiB, compression: "none" }, { size: 7000 }],
        tag: "v1",
        dir: join(scratch.path, "while-down"),
      });
      await push(`oci:${layout.path}:v1`, a, "team/while-down", "v1");
      const digest = (await digestIn(a, "team/while-down", "v1"))!;
      // A's cron tries, fails, and keeps the item to retry.
      const deadline = Date.now() + 60_000;
      interface Backlog {
        destinations: { registryId: string; lastRetriedFailure: string | null; pending: number }[];
      }
      let view: Backlog | null = null;
      while (Date.now() < deadline) {
        view = (await (await admin(a, "GET", "/admin/replication")).json()) as Backlog;
        const toB = view?.destinations.find((destination) => destination.registryId === B_ID);
        if (toB?.lastRetriedFailure === "DESTINATION_UNAVAILABLE" && toB.pending > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      expect(view?.destinations.find((destination) => destination.registryId === B_ID)).toMatchObject({
        lastRetriedFailure: "DESTINATION_UNAVAILABLE",
      });
      expect(await statusOf(a, "team/while-down", digest)).toEqual([
        { region: REGION, registryId: B_ID, status: "IN_PROGRESS" },
      ]);
      b = await start("b", B_ID, b);
      restarted = true;
      expect(await settled(a, "team/while-down", digest, B_ID)).toMatchObject({ status: "COMPLETE" });
      expect(await digestIn(b, "team/while-down", "v1")).toBe(digest);
      const sizes = [...(await blobSizesIn(a, "team/while-down", digest)).values()];
      expect(Math.max(...sizes)).toBeGreaterThan(10 * MiB);
      expect(proxy.uploadedBytes - before).toBe(sizes.reduce((sum, size) => sum + size, 0));
    } finally {
      if (!restarted) b = await start("b", B_ID, b);
    }
  });

  it("fails with REGISTRY_POLICY_DENIED where B's registry policy refuses A, while A's push succeeds", async () => {
    const layout = await buildSingleArchLayout({
      seed: "replication-denied",
      layers: [{ size: 1000 }],
      tag: "v1",
      dir: join(scratch.path, "denied"),
    });
    await push(`oci:${layout.path}:v1`, a, "denied/app", "v1");
    expect(await digestIn(a, "denied/app", "v1")).toBe(layout.manifestDigest);
    expect(await settled(a, "denied/app", layout.manifestDigest, B_ID)).toEqual({
      region: REGION,
      registryId: B_ID,
      status: "FAILED",
      failureCode: "REGISTRY_POLICY_DENIED",
    });
    expect(await digestIn(b, "denied/app", "v1")).toBeNull();
  });

  it("is not transitive (B → C carries B's own pushes only), and a deletion in A leaves B's copy", async () => {
    const own = await buildSingleArchLayout({
      seed: "replication-b-own",
      layers: [{ size: 1500 }],
      tag: "v1",
      dir: join(scratch.path, "b-own"),
    });
    await push(`oci:${own.path}:v1`, b, "b-own/app", "v1");
    expect(await settled(b, "b-own/app", own.manifestDigest, C_ID)).toMatchObject({ status: "COMPLETE" });
    expect(await digestIn(c, "b-own/app", "v1")).toBe(own.manifestDigest);
    const catalog = await fetch(`${c.process.url}/v2/_catalog`, {
      headers: { Authorization: c.process.adminAuthorization },
    });
    expect(((await catalog.json()) as { repositories: string[] }).repositories).toEqual(["b-own/app"]);
    expect(await statusOf(b, "team/app-1", (await digestIn(b, "team/app-1", "v1"))!)).toEqual([]);

    const kept = (await digestIn(a, "team/app-1", "v1"))!;
    await a.ecr.send(new BatchDeleteImageCommand({ repositoryName: "team/app-1", imageIds: [{ imageTag: "v1" }] }));
    expect(await digestIn(a, "team/app-1", kept)).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(await digestIn(b, "team/app-1", "v1")).toBe(kept);
  });

  it("C creates repositories on push only where a CREATE_ON_PUSH template covers them; replication still creates", async () => {
    const layout = await buildSingleArchLayout({
      seed: "c-direct",
      layers: [{ size: 600 }],
      tag: "v1",
      dir: join(scratch.path, "c-direct"),
    });
    const refused = await runSkopeo([
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      c.creds,
      `oci:${layout.path}:v1`,
      ref(c, "c-direct/app", "v1"),
    ]);
    expect(refused.code, describeRun(refused)).not.toBe(0);
    expect(refused.stderr).toMatch(/name unknown|NAME_UNKNOWN|repository name not known/i);
    await c.ecr.send(
      new CreateRepositoryCreationTemplateCommand({
        prefix: "c-direct",
        appliedFor: ["CREATE_ON_PUSH"],
        imageTagMutability: "IMMUTABLE",
      }),
    );
    await push(`oci:${layout.path}:v1`, c, "c-direct/app", "v1");
    const described = await c.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ["c-direct/app"] }));
    expect(described.repositories?.[0]?.imageTagMutability).toBe("IMMUTABLE");
  });

  it("delivers an image whose tag is immutable in B without moving that tag", async () => {
    await b.ecr.send(new CreateRepositoryCommand({ repositoryName: "immutable/app", imageTagMutability: "IMMUTABLE" }));
    const inB = await buildSingleArchLayout({
      seed: "immutable-b",
      layers: [{ size: 800 }],
      tag: "v1",
      dir: join(scratch.path, "imm-b"),
    });
    await push(`oci:${inB.path}:v1`, b, "immutable/app", "v1");
    const inA = await buildSingleArchLayout({
      seed: "immutable-a",
      layers: [{ size: 900 }],
      tag: "v1",
      dir: join(scratch.path, "imm-a"),
    });
    await push(`oci:${inA.path}:v1`, a, "immutable/app", "v1");
    expect(await settled(a, "immutable/app", inA.manifestDigest, B_ID)).toMatchObject({ status: "COMPLETE" });
    expect(await digestIn(b, "immutable/app", "v1")).toBe(inB.manifestDigest);
    expect(await digestIn(b, "immutable/app", inA.manifestDigest)).toBe(inA.manifestDigest);
  });
});
