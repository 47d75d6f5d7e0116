/**
 * Online garbage collection racing pushes, against a registry started with `npm start`:
 * 200 iterations, each pushing an image (two layers shared through a pool and reused with a
 * HEAD, as clients do, plus a new one) while a collection with no grace period runs (started
 * at a different moment of each push) and the oldest image is deleted. Pushes that lose a
 * race are told to upload again and retry. Afterwards every tagged manifest's blobs must be
 * pullable byte for byte, and a quiet collection must find nothing unreferenced left.
 */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { registryFetch } from "./support/context";

const NAME = "gc/race";
const ITERATIONS = 200;
const LIVE_IMAGES = 20;
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

interface GcReport {
  linksRemoved: number;
  objectsMarked: number;
  objectsDeleted: number;
}

function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

async function collect(graceSeconds = 0): Promise<GcReport> {
  const response = await registryFetch("POST", `/admin/gc?graceSeconds=${graceSeconds}`);
  if (response.status !== 200) throw new Error(`POST /admin/gc: ${response.status} ${await response.text()}`);
  return (await response.json()) as GcReport;
}

/** Uploads a blob unless the repository has it; false when the upload lost a race with collection. */
async function ensureBlob(bytes: Uint8Array): Promise<boolean> {
  const digest = digestOf(bytes);
  if ((await registryFetch("HEAD", `/v2/${NAME}/blobs/${digest}`)).status === 200) return true;
  const response = await registryFetch("POST", `/v2/${NAME}/blobs/uploads/?digest=${digest}`, { body: bytes });
  await response.arrayBuffer();
  return response.status === 201;
}

describe("garbage collection racing pushes", () => {
  it(`loses no blob of a tagged manifest over ${ITERATIONS} iterations, and leaves nothing unreferenced`, async () => {
    const pool = Array.from({ length: 6 }, () => randomBytes(512));
    const tagged: string[] = [];
    let retries = 0;
    let collected = { links: 0, objects: 0 };

    async function push(tag: string, seed: number): Promise<void> {
      const layers = [pool[seed % pool.length]!, pool[(seed * 7 + 3) % pool.length]!, randomBytes(128)];
      const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed }));
      for (let attempt = 0; attempt < 20; attempt++) {
        const stored = await Promise.all([config, ...layers].map(ensureBlob));
        if (stored.every(Boolean)) {
          const manifest = JSON.stringify({
            schemaVersion: 2,
            mediaType: MANIFEST,
            config: {
              mediaType: "application/vnd.oci.image.config.v1+json",
              digest: digestOf(config),
              size: config.length,
            },
            layers: layers.map((layer) => ({
              mediaType: "application/vnd.oci.image.layer.v1.tar",
              digest: digestOf(layer),
              size: layer.length,
            })),
          });
          const put = await registryFetch("PUT", `/v2/${NAME}/manifests/${tag}`, {
            body: manifest,
            headers: { "Content-Type": MANIFEST },
          });
          await put.arrayBuffer();
          if (put.status === 201) return;
          expect(put.status, "only MANIFEST_BLOB_UNKNOWN (a link collected meanwhile) may refuse the push").toBe(400);
        }
        retries++;
      }
      throw new Error(`push of ${tag} lost the race 20 times`);
    }

    async function deleteOldest(): Promise<void> {
      const victim = tagged.shift();
      if (victim === undefined) return;
      const manifest = await registryFetch("GET", `/v2/${NAME}/manifests/${victim}`, { headers: { Accept: MANIFEST } });
      const digest = manifest.headers.get("Docker-Content-Digest");
      await manifest.arrayBuffer();
      if (digest) await (await registryFetch("DELETE", `/v2/${NAME}/manifests/${digest}`)).arrayBuffer();
    }

    for (let i = 0; i < ITERATIONS; i++) {
      const tag = `t${i}`;
      await Promise.all([
        push(tag, i),
        (async () => {
          await new Promise((resolve) => setTimeout(resolve, (i % 8) * 3));
          const report = await collect();
          collected = {
            links: collected.links + report.linksRemoved,
            objects: collected.objects + report.objectsDeleted,
          };
        })(),
        tagged.length >= LIVE_IMAGES ? deleteOldest() : Promise.resolve(),
      ]);
      tagged.push(tag);
    }

    let missing = 0;
    for (const tag of tagged) {
      const response = await registryFetch("GET", `/v2/${NAME}/manifests/${tag}`, { headers: { Accept: MANIFEST } });
      expect(response.status, tag).toBe(200);
      const manifest = (await response.json()) as { config: { digest: string }; layers: { digest: string }[] };
      for (const digest of [manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)]) {
        const blob = await registryFetch("GET", `/v2/${NAME}/blobs/${digest}`);
        const bytes = new Uint8Array(await blob.arrayBuffer());
        if (blob.status !== 200 || digestOf(bytes) !== digest) missing++;
      }
    }
    console.log(
      `[gc race] ${ITERATIONS} iterations: ${missing} missing blobs in ${tagged.length} tagged images; ` +
        `${retries} push attempts lost a race and retried; collection removed ${collected.links} links and ${collected.objects} objects`,
    );
    expect(missing).toBe(0);
    expect(collected.objects).toBeGreaterThan(ITERATIONS / 2); // the deleted images' blobs were really collected

    // Quiet now: one collection takes what is left, and a second finds nothing more.
    const first = await collect();
    const after = await collect();
    expect(after, JSON.stringify({ first, after })).toMatchObject({
      linksRemoved: 0,
      objectsMarked: 0,
      objectsDeleted: 0,
    });
  });
});
