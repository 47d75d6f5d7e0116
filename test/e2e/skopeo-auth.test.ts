/**
 * Authentication and authorization with real skopeo: login with a user's access key,
 * anonymous pulls of a public repository, anonymous pushes refused, and a repository policy
 * that denies a user's push.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateRepositoryCommand, SetRepositoryPolicyCommand } from "@aws-sdk/client-ecr";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { registryFetch, useTempDir } from "./support/context";
import { ecrClient } from "./support/ecr";
import { buildSingleArchLayout, type SingleArchLayout } from "./support/image-builder";
import { describeRun, dockerRef, ociRef, runSkopeo, skopeo } from "./support/skopeo";

const KiB = 1024;
const dir = useTempDir("auth-");

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) };
  const response = await registryFetch(method, path, init);
  if (response.status >= 300)
    throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return response;
}

/** A user with the given identity policy, and its access key. */
/** Sets a repository policy through the ECR API (as the bootstrap admin). */
async function setRepositoryPolicy(repositoryName: string, policy: unknown): Promise<void> {
  await ecrClient().send(new SetRepositoryPolicyCommand({ repositoryName, policyText: JSON.stringify(policy) }));
}

async function createUser(
  name: string,
  policy: unknown,
): Promise<{ accessKeyId: string; secretAccessKey: string; arn: string }> {
  const created = (await (await admin("POST", "/admin/users", { name })).json()) as { arn: string };
  await admin("PUT", `/admin/users/${name}/policies/main`, policy);
  const key = (await (await admin("POST", `/admin/users/${name}/access-keys`)).json()) as {
    accessKeyId: string;
    secretAccessKey: string;
  };
  return { ...key, arn: created.arn };
}

async function tagExists(repository: string, tag: string): Promise<boolean> {
  const response = await registryFetch("HEAD", `/v2/${repository}/manifests/${tag}`);
  return response.status === 200;
}

describe("skopeo with authentication", () => {
  let image: SingleArchLayout;
  let images: string;

  beforeAll(async () => {
    images = join(inject("e2eTempDir"), "auth-images");
    image = await buildSingleArchLayout({
      seed: "auth/app",
      tag: "v1",
      layers: [{ size: 64 * KiB }, { size: 32 * KiB }],
      dir: images,
    });
  });

  it("logs in with a user's access key and copies an image in and out", async () => {
    const user = await createUser("ci-bot", {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "ecr:*", Resource: "arn:aws:ecr:*:*:repository/team-auth/*" }],
    });
    const authFile = join(dir.path, "auth.json");
    await writeFile(authFile, JSON.stringify({ auths: {} }));
    const options = { authFile, tmpDir: dir.path };
    await skopeo(
      ["login", "--tls-verify=false", "-u", user.accessKeyId, "-p", user.secretAccessKey, inject("registryHost")],
      options,
    );
    await skopeo(
      [
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        ociRef(image.path, "v1"),
        dockerRef("team-auth/app", "v1"),
      ],
      options,
    );
    const out = join(dir.path, "out");
    await skopeo(
      ["copy", "--preserve-digests", "--src-tls-verify=false", dockerRef("team-auth/app", "v1"), ociRef(out, "v1")],
      options,
    );
    const inspected = await skopeo(
      ["inspect", "--raw", "--tls-verify=false", dockerRef("team-auth/app", "v1")],
      options,
    );
    expect(inspected.stdout.equals(image.image.manifest.bytes), describeRun(inspected)).toBe(true);
    // The same key is refused outside the repositories its policy names.
    const elsewhere = await runSkopeo(
      ["copy", "--dest-tls-verify=false", ociRef(image.path, "v1"), dockerRef("team-other/app", "v1")],
      options,
    );
    expect(elsewhere.code, describeRun(elsewhere)).not.toBe(0);
    expect(elsewhere.stderr).toMatch(/denied|unauthorized|403/i);
    expect(await tagExists("team-other/app", "v1")).toBe(false);
    // A wrong secret fails to log in.
    const bad = await runSkopeo(
      ["login", "--tls-verify=false", "-u", user.accessKeyId, "-p", "wrong-secret", inject("registryHost")],
      options,
    );
    expect(bad.code, describeRun(bad)).not.toBe(0);
  });

  it("serves anonymous pulls of a public repository and refuses anonymous pushes with 401", async () => {
    await skopeo([
      "copy",
      "--preserve-digests",
      "--dest-tls-verify=false",
      ociRef(image.path, "v1"),
      dockerRef("public/app", "v1"),
    ]);
    await setRepositoryPolicy("public/app", {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "PublicPull",
          Effect: "Allow",
          Principal: "*",
          Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        },
      ],
    });
    const anonymous = { authFile: inject("skopeoAnonymousAuthFile"), tmpDir: dir.path };
    const out = join(dir.path, "public-out");
    await skopeo(
      ["copy", "--preserve-digests", "--src-tls-verify=false", dockerRef("public/app", "v1"), ociRef(out, "v1")],
      anonymous,
    );
    const push = await runSkopeo(
      ["copy", "--dest-tls-verify=false", ociRef(image.path, "v1"), dockerRef("public/app", "anonymous")],
      anonymous,
    );
    expect(push.code, describeRun(push)).not.toBe(0);
    expect(push.stderr, describeRun(push)).toMatch(/401|unauthorized|authentication required/i);
    expect(await tagExists("public/app", "anonymous")).toBe(false);
    // A private repository is not readable anonymously either.
    const privatePull = await runSkopeo(["inspect", "--tls-verify=false", dockerRef("team-auth/app", "v1")], anonymous);
    expect(privatePull.code, describeRun(privatePull)).not.toBe(0);
  });

  it("answers 403 DENIED to a user whose push a repository policy denies, and writes nothing", async () => {
    const user = await createUser("denied-bot", {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "ecr:*", Resource: "*" }],
    });
    await ecrClient().send(
      new CreateRepositoryCommand({ repositoryName: "team-locked/app", imageTagMutability: "MUTABLE" }),
    );
    await setRepositoryPolicy("team-locked/app", {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Principal: { AWS: user.arn },
          Action: ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"],
        },
      ],
    });
    const authFile = join(dir.path, "denied-auth.json");
    await writeFile(authFile, JSON.stringify({ auths: {} }));
    const options = { authFile, tmpDir: dir.path, debug: true };
    await skopeo(
      ["login", "--tls-verify=false", "-u", user.accessKeyId, "-p", user.secretAccessKey, inject("registryHost")],
      options,
    );
    const push = await runSkopeo(
      ["copy", "--dest-tls-verify=false", ociRef(image.path, "v1"), dockerRef("team-locked/app", "v1")],
      options,
    );
    expect(push.code, describeRun(push)).not.toBe(0);
    expect(push.stderr, describeRun(push)).toMatch(/denied/i);
    expect(await tagExists("team-locked/app", "v1")).toBe(false);
    for (const digest of image.blobDigests) {
      expect((await registryFetch("HEAD", `/v2/team-locked/app/blobs/${digest}`)).status).toBe(404);
    }
    // Direct requests with Basic credentials get the 403 DENIED body.
    const basic = `Basic ${Buffer.from(`${user.accessKeyId}:${user.secretAccessKey}`).toString("base64")}`;
    const response = await registryFetch("POST", "/v2/team-locked/app/blobs/uploads/", {
      headers: { Authorization: basic },
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("DENIED");
  });
});
