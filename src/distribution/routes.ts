/**
 * The `/v2` router: recognises the resource from the path, checks the repository name, and
 * hands the request to the resource's handler for its method. Unknown paths are 404
 * NAME_UNKNOWN-free plain 404s; known resources with an unsupported method are 405.
 */
import { Hono } from "hono";
import type { AppContext, AppEnv } from "../app-env";
import { OciError, RegistryError } from "../errors";
import { deleteBlob, getBlob } from "./blobs";
import { getCatalog } from "./catalog";
import { deleteManifest, getManifest, putManifest } from "./manifests";
import { parseDistributionPath, type DistributionRoute } from "./path";
import { getReferrers } from "./referrers";
import { getTags } from "./tags";
import { cancelUpload, getUploadStatus, patchUpload, putUpload, startUpload } from "./uploads";
import { requireName } from "./validate";

type Handler = (c: AppContext, route: DistributionRoute & { name: string }) => Promise<Response>;
type MethodTable = Partial<Record<string, Handler>>;

function on<K extends DistributionRoute["kind"]>(
  handlers: Partial<Record<string, (c: AppContext, route: Extract<DistributionRoute, { kind: K }>) => Promise<Response>>>,
): MethodTable {
  return handlers as MethodTable;
}

const RESOURCES: { [K in DistributionRoute["kind"]]: MethodTable } = {
  "upload-start": on<"upload-start">({ POST: (c, r) => startUpload(c, r.name) }),
  upload: on<"upload">({
    PATCH: (c, r) => patchUpload(c, r.name, r.id),
    PUT: (c, r) => putUpload(c, r.name, r.id),
    GET: (c, r) => getUploadStatus(c, r.name, r.id),
    DELETE: (c, r) => cancelUpload(c, r.name, r.id),
  }),
  blob: on<"blob">({
    GET: (c, r) => getBlob(c, r.name, r.digest),
    HEAD: (c, r) => getBlob(c, r.name, r.digest),
    DELETE: (c, r) => deleteBlob(c, r.name, r.digest),
  }),
  manifest: on<"manifest">({
    GET: (c, r) => getManifest(c, r.name, r.reference),
    HEAD: (c, r) => getManifest(c, r.name, r.reference),
    PUT: (c, r) => putManifest(c, r.name, r.reference),
    DELETE: (c, r) => deleteManifest(c, r.name, r.reference),
  }),
  tags: on<"tags">({ GET: (c, r) => getTags(c, r.name), HEAD: (c, r) => getTags(c, r.name) }),
  referrers: on<"referrers">({ GET: (c, r) => getReferrers(c, r.name, r.digest) }),
};

export const distribution = new Hono<AppEnv>({ strict: false });

distribution.use("*", async (c, next) => {
  await next();
  c.res.headers.set("Docker-Distribution-API-Version", "registry/2.0");
});

distribution.get("/", (c) => c.json({}));

distribution.get("/_catalog", (c) => getCatalog(c));

distribution.all("/*", (c) => {
  const path = new URL(c.req.url).pathname.replace(/^\/v2\//, "");
  const route = parseDistributionPath(path);
  if (!route) throw new RegistryError(OciError.NAME_UNKNOWN, `no registry resource at ${new URL(c.req.url).pathname}`);
  requireName(route.name);
  const handler = RESOURCES[route.kind][c.req.method];
  if (!handler) {
    throw new RegistryError(OciError.UNSUPPORTED, `${c.req.method} is not supported on ${route.kind} resources`);
  }
  return handler(c, route);
});
