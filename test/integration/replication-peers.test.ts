/**
 * The destination side of cross-account replication: a peer account's access key (another
 * registry) is granted only what the registry policy grants its account, ecr:ReplicateImage to
 * push and ecr:CreateRepository to create a missing repository, through Basic credentials and
 * through tokens alike; it may never pull, list or delete. Its pushes are not replicated further
 * (replication is not transitive). PutRegistryPolicy refuses actions a registry policy cannot hold.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { ecrCall } from "../support/ecr";
import {
  ACCOUNT_ID,
  adminCall,
  basicAuthorization,
  bearerAuthorization,
  bytesOf,
  call,
  digestOf,
  grantedActions,
  pushImage,
  randomBytes,
  requestToken,
  type TokenBody,
} from "../support/registry";

const SOURCE = "210987654321";

interface PeerKey {
  accessKeyId: string;
  secretAccessKey: string;
  authorization: string;
}

async function peerKey(accountId = SOURCE): Promise<PeerKey> {
  const created = await adminCall("PUT", `/admin/peer-accounts/${accountId}`);
  expect(created.status, await created.clone().text()).toBe(201);
  const body = await created.json<{ accessKeyId: string; secretAccessKey: string; principalArn: string }>();
  expect(body.principalArn).toBe(`arn:aws:iam::${accountId}:root`);
  return { ...body, authorization: basicAuthorization(body.accessKeyId, body.secretAccessKey) };
}

function registryPolicy(actions: string[], account = SOURCE): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "replication",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: actions,
        Resource: `arn:aws:ecr:us-east-1:${ACCOUNT_ID}:repository/*`,
      },
    ],
  });
}

async function putRegistryPolicy(actions: string[], account?: string): Promise<void> {
  const put = await ecrCall("PutRegistryPolicy", { policyText: registryPolicy(actions, account) });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
}

/** Pushes a one-layer image with the given credentials; the manifest PUT's status. */
async function pushAs(authorization: string, name: string, tag: string): Promise<number> {
  const layer = randomBytes(64);
  const config = bytesOf(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  for (const blob of [config, layer]) {
    const digest = await digestOf(blob);
    const response = await call("POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, {
      body: blob,
      headers: { Authorization: authorization },
    });
    if (response.status !== 201) return response.status;
  }
  const manifest = bytesOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: await digestOf(config),
        size: config.length,
      },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: await digestOf(layer), size: layer.length },
      ],
    }),
  );
  const put = await call("PUT", `/v2/${name}/manifests/${tag}`, {
    body: manifest,
    headers: { Authorization: authorization, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
  });
  return put.status;
}

afterEach(async () => {
  await ecrCall("DeleteRegistryPolicy", {});
  await ecrCall("PutReplicationConfiguration", { replicationConfiguration: { rules: [] } });
  await adminCall("DELETE", `/admin/peer-accounts/${SOURCE}`);
});

describe("a peer account replicating into this registry", () => {
  it("is refused everything without a registry policy granting it", async () => {
    const peer = await peerKey();
    await pushImage("peers/existing", "v1");
    expect(await pushAs(peer.authorization, "peers/existing", "v2")).toBe(403);
    expect(await pushAs(peer.authorization, "peers/new-repo", "v1")).toBe(403);
    const token = await requestToken(["repository:peers/existing:pull,push"], peer.authorization);
    expect(grantedActions((await token.json<TokenBody>()).token, "peers/existing")).toEqual([]);
  });

  it("pushes with ecr:ReplicateImage, creates repositories only with ecr:CreateRepository, and never pulls or deletes", async () => {
    const peer = await peerKey();
    await pushImage("peers/existing", "v1");
    await putRegistryPolicy(["ecr:ReplicateImage"]);
    expect(await pushAs(peer.authorization, "peers/existing", "from-peer")).toBe(201);
    expect(await pushAs(peer.authorization, "peers/created", "v1")).toBe(403);
    expect((await ecrCall("DescribeRepositories", { repositoryNames: ["peers/created"] })).type).toBe(
      "RepositoryNotFoundException",
    );
    // Pulls, listings and deletes are not replication.
    const headers = { Authorization: peer.authorization };
    expect((await call("GET", "/v2/peers/existing/manifests/v1", { headers })).status).toBe(403);
    expect((await call("GET", "/v2/peers/existing/tags/list", { headers })).status).toBe(403);
    expect((await call("DELETE", "/v2/peers/existing/manifests/from-peer", { headers })).status).toBe(403);
    expect((await call("GET", "/admin/users", { headers })).status).toBe(403);

    await putRegistryPolicy(["ecr:ReplicateImage", "ecr:CreateRepository"]);
    expect(await pushAs(peer.authorization, "peers/created", "v1")).toBe(201);
    // Through a token as Docker clients do: push is granted, pull is not.
    const response = await requestToken(["repository:peers/created:pull,push"], peer.authorization);
    const token = (await response.json<TokenBody>()).token;
    expect(grantedActions(token, "peers/created")).toEqual(["push"]);
    expect(await pushAs(bearerAuthorization(token), "peers/created", "v2")).toBe(201);
    expect(
      (await call("GET", "/v2/peers/created/manifests/v2", { headers: { Authorization: bearerAuthorization(token) } }))
        .status,
    ).toBe(403);
  });

  it("is decided by the registry policy for its own account only, and an explicit deny wins", async () => {
    const peer = await peerKey();
    await putRegistryPolicy(["ecr:ReplicateImage", "ecr:CreateRepository"], "333333333333");
    expect(await pushAs(peer.authorization, "peers/other", "v1")).toBe(403);
    const both = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: SOURCE },
          Action: ["ecr:ReplicateImage", "ecr:CreateRepository"],
          Resource: "*",
        },
        {
          Effect: "Deny",
          Principal: { AWS: SOURCE },
          Action: "ecr:ReplicateImage",
          Resource: `arn:aws:ecr:us-east-1:${ACCOUNT_ID}:repository/peers/secret*`,
        },
      ],
    });
    expect((await ecrCall("PutRegistryPolicy", { policyText: both })).status).toBe(200);
    expect(await pushAs(peer.authorization, "peers/open", "v1")).toBe(201);
    expect(await pushAs(peer.authorization, "peers/secret-app", "v1")).toBe(403);
  });

  it("records no replication work for a replicated push: replication is not transitive", async () => {
    const peer = await peerKey();
    await putRegistryPolicy(["ecr:ReplicateImage", "ecr:CreateRepository"]);
    const rules = [{ destinations: [{ registryId: ACCOUNT_ID, region: "eu-west-1" }] }];
    expect((await ecrCall("PutReplicationConfiguration", { replicationConfiguration: { rules } })).status).toBe(200);
    expect(await pushAs(peer.authorization, "peers/chain", "from-peer")).toBe(201);
    await pushImage("peers/chain", "local");
    const rows = await env.DB.prepare("SELECT tag FROM replication_items WHERE repository = 'peers/chain'").all<{
      tag: string;
    }>();
    expect(rows.results.map((row) => row.tag)).toEqual(["local"]);
  });

  it("is managed by the admin API: listed apart from users, removed with its keys, never this registry's own account", async () => {
    const peer = await peerKey();
    const listed = await (await adminCall("GET", "/admin/peer-accounts")).json<{ accounts: unknown[] }>();
    expect(listed.accounts).toEqual([{ accountId: SOURCE, accessKeyIds: [peer.accessKeyId] }]);
    const users = await (await adminCall("GET", "/admin/users")).json<{ users: string[] }>();
    expect(users.users.filter((name) => name.startsWith("account:"))).toEqual([]);
    expect((await adminCall("PUT", `/admin/peer-accounts/${ACCOUNT_ID}`)).status).toBe(400);
    expect((await adminCall("PUT", "/admin/peer-accounts/12345")).status).toBe(400);
    expect((await adminCall("DELETE", `/admin/peer-accounts/${SOURCE}`)).status).toBe(204);
    expect((await call("GET", "/v2/", { headers: { Authorization: peer.authorization } })).status).toBe(401);
    expect((await adminCall("DELETE", `/admin/peer-accounts/${SOURCE}`)).status).toBe(404);
  });
});

describe("PutRegistryPolicy", () => {
  it("accepts only the actions a registry policy enforces, and GetRegistryPolicy returns it", async () => {
    for (const actions of [["ecr:PutImage"], ["ecr:*"], ["ecr:ReplicateImage", "ecr:BatchGetImage"]]) {
      const refused = await ecrCall("PutRegistryPolicy", { policyText: registryPolicy(actions) });
      expect(refused.type, JSON.stringify(actions)).toBe("ValidationException");
    }
    expect((await ecrCall("GetRegistryPolicy", {})).type).toBe("RegistryPolicyNotFoundException");
    const text = registryPolicy(["ecr:ReplicateImage", "ecr:CreateRepository", "ecr:BatchImportUpstreamImage"]);
    expect((await ecrCall("PutRegistryPolicy", { policyText: text })).status).toBe(200);
    expect((await ecrCall("GetRegistryPolicy", {})).body).toEqual({ registryId: ACCOUNT_ID, policyText: text });
  });
});
