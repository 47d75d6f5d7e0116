/**
 * What the gallery and console page tests share: signing in (a session cookie), fetching a page
 * as text, making a repository public, catalog data written to its table, and pushing a
 * multi-arch index (two image manifests by digest, the index by tag).
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import {
  bytesOf,
  call,
  digestOf,
  OCI_INDEX,
  OCI_MANIFEST,
  ORIGIN,
  pushBlob,
  putManifestBytes,
  putRepositoryPolicy,
} from "../../support/registry";

export const PAGE_BUDGET = 60 * 1024;

/** A session cookie (`name=value`) for the access key. */
export async function signInCookie(accessKeyId: string, secret: string): Promise<string> {
  const response = await call("POST", "/console/sign-in", {
    anonymous: true,
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN },
    body: new URLSearchParams({ accessKeyId, secretAccessKey: secret }).toString(),
  });
  expect(response.status).toBe(303);
  return (response.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
}

export function adminCookie(): Promise<string> {
  return signInCookie(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY);
}

export interface Page {
  status: number;
  headers: Headers;
  text: string;
}

/** GET a page, anonymous, or with the session `cookie`. */
export async function page(path: string, cookie?: string): Promise<Page> {
  const response = await call("GET", path, {
    anonymous: true,
    headers: cookie === undefined ? {} : { Cookie: cookie },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

/** Expects the strict CSP (no script source at all) on a response. */
export function expectCsp(response: { headers: Headers }): void {
  const csp = response.headers.get("Content-Security-Policy") ?? "";
  expect(csp).toMatch(/default-src 'none'/);
  expect(csp).not.toMatch(/script-src/);
}

/** A repository policy letting anyone pull: the gallery's definition of public. */
export async function makePublic(name: string): Promise<void> {
  await putRepositoryPolicy(name, {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "PublicPull",
        Effect: "Allow",
        Principal: "*",
        Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
      },
    ],
  });
}

/** Catalog data written straight to its table (the gallery only reads it). */
export async function putCatalog(name: string, data: Record<string, unknown>): Promise<void> {
  await env.DB.prepare("INSERT OR REPLACE INTO repository_catalog_data (repository, data, updated_at) VALUES (?, ?, ?)")
    .bind(name, JSON.stringify(data), Date.now())
    .run();
}

export interface PushedIndex {
  index: string;
  amd64: string;
  arm64: string;
  /** config + layer bytes of each child (ECR's imageSizeInBytes). */
  childSizes: { amd64: number; arm64: number };
}

const layerBytes = bytesOf("x".repeat(3000));

/** A pushed image manifest: its digest, its bytes' length and its image size (config + layers). */
interface PushedChild {
  digest: string;
  manifestSize: number;
  size: number;
}

async function pushChild(name: string, architecture: string, variant?: string): Promise<PushedChild> {
  const config = bytesOf(JSON.stringify({ architecture, os: "linux", ...(variant ? { variant } : {}), rootfs: {} }));
  const configDigest = await pushBlob(name, config);
  const layerDigest = await pushBlob(name, layerBytes);
  const manifest = bytesOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerDigest, size: layerBytes.length },
      ],
    }),
  );
  const digest = await digestOf(manifest);
  const response = await putManifestBytes(name, digest, manifest);
  expect(response.status, await response.clone().text()).toBe(201);
  return { digest, manifestSize: manifest.length, size: config.length + layerBytes.length };
}

/**
 * An OCI index over linux/amd64 and linux/arm64/v8 children, pushed under `tags` (the first
 * pushes it, the others tag it). `annotations` make distinct indexes over the same children.
 */
export async function pushIndex(
  name: string,
  tags: string[],
  annotations: Record<string, string> = {},
  children?: { amd64: PushedChild; arm64: PushedChild },
): Promise<PushedIndex> {
  const amd64 = children?.amd64 ?? (await pushChild(name, "amd64"));
  const arm64 = children?.arm64 ?? (await pushChild(name, "arm64", "v8"));
  const index = bytesOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: amd64.digest,
          size: amd64.manifestSize,
          platform: { architecture: "amd64", os: "linux" },
        },
        {
          mediaType: OCI_MANIFEST,
          digest: arm64.digest,
          size: arm64.manifestSize,
          platform: { architecture: "arm64", os: "linux", variant: "v8" },
        },
      ],
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    }),
  );
  for (const tag of tags) {
    const response = await putManifestBytes(name, tag, index, OCI_INDEX);
    expect(response.status, await response.clone().text()).toBe(201);
  }
  return {
    index: await digestOf(index),
    amd64: amd64.digest,
    arm64: arm64.digest,
    childSizes: { amd64: amd64.size, arm64: arm64.size },
  };
}

/** Children pushed once, for tests that push many indexes over them. */
export async function pushChildren(name: string): Promise<{ amd64: PushedChild; arm64: PushedChild }> {
  return { amd64: await pushChild(name, "amd64"), arm64: await pushChild(name, "arm64", "v8") };
}

/** Texts that would be markup if a page did not escape them. */
export const HOSTILE = ["<script>alert(1)</script>", '"><img src=x>'];

/** The hostile texts appear only escaped: no script and no injected image element. */
export function expectEscaped(html: string): void {
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toContain("<img src=x>");
  expect(html).not.toContain('"><img');
}
