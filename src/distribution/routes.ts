/**
 * The `/v2` router: recognises the resource from the path, checks the repository name,
 * authorizes the method's ECR action for the caller, and hands the request to the
 * resource's handler. Known resources with an unsupported method are 405. A blob GET may
 * instead be authorized by the token of a layer download URL (src/auth/download-urls.ts).
 * Pushes into a pull-through cache repository are refused here.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { noteAudit } from "../audit/capture";
import type { AuditNote } from "../audit/note";
import { requireRepositoryAccess, unauthorized } from "../auth/authorizer";
import { authConfig, type AuthConfig } from "../auth/config";
import { authorizedByDownloadUrl } from "../auth/download-urls";
import { authenticate } from "../auth/middleware";
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
import { refusePushIntoCache } from "../pull-through/targets";

type Handler<K extends DistributionRoute["kind"]> = (
  c: AppContext,
  route: Extract<DistributionRoute, { kind: K }>,
) => Promise<Response>;

/** A method of a resource: the ECR action it needs and the handler. */
interface Operation<K extends DistributionRoute["kind"]> {
  action: string;
  handle: Handler<K>;
}

type ResourceTable = { [K in DistributionRoute["kind"]]: Partial<Record<string, Operation<K>>> };

const RESOURCES: ResourceTable = {
  "upload-start": { POST: { action: "ecr:InitiateLayerUpload", handle: (c, r) => startUpload(c, r.name) } },
  upload: {
    PATCH: { action: "ecr:UploadLayerPart", handle: (c, r) => patchUpload(c, r.name, r.id) },
    PUT: { action: "ecr:CompleteLayerUpload", handle: (c, r) => putUpload(c, r.name, r.id) },
    GET: { action: "ecr:UploadLayerPart", handle: (c, r) => getUploadStatus(c, r.name, r.id) },
    DELETE: { action: "ecr:UploadLayerPart", handle: (c, r) => cancelUpload(c, r.name, r.id) },
  },
  blob: {
    GET: { action: "ecr:GetDownloadUrlForLayer", handle: (c, r) => getBlob(c, r.name, r.digest) },
    HEAD: { action: "ecr:BatchCheckLayerAvailability", handle: (c, r) => getBlob(c, r.name, r.digest) },
    DELETE: { action: "ecr:BatchDeleteImage", handle: (c, r) => deleteBlob(c, r.name, r.digest) },
  },
  manifest: {
    GET: { action: "ecr:BatchGetImage", handle: (c, r) => getManifest(c, r.name, r.reference) },
    HEAD: { action: "ecr:BatchGetImage", handle: (c, r) => getManifest(c, r.name, r.reference) },
    PUT: { action: "ecr:PutImage", handle: (c, r) => putManifest(c, r.name, r.reference) },
    DELETE: { action: "ecr:BatchDeleteImage", handle: (c, r) => deleteManifest(c, r.name, r.reference) },
  },
  tags: {
    GET: { action: "ecr:ListImages", handle: (c, r) => getTags(c, r.name) },
    HEAD: { action: "ecr:ListImages", handle: (c, r) => getTags(c, r.name) },
  },
  referrers: { GET: { action: "ecr:BatchGetImage", handle: (c, r) => getReferrers(c, r.name, r.digest) } },
};

/** Operations that write content: refused in pull-through cache repositories. */
const PUSH_ACTIONS: ReadonlySet<string> = new Set(["ecr:InitiateLayerUpload", "ecr:PutImage"]);

function operationFor(route: DistributionRoute, method: string): Operation<DistributionRoute["kind"]> | undefined {
  const table = RESOURCES[route.kind] as Partial<Record<string, Operation<DistributionRoute["kind"]>>>;
  return table[method];
}

/** Only a blob GET honours a download URL's token; every other request ignores it. */
async function authorizedByUrl(c: AppContext, config: AuthConfig, route: DistributionRoute): Promise<boolean> {
  if (route.kind !== "blob" || c.req.method !== "GET") return false;
  return authorizedByDownloadUrl(c, config, { repository: route.name, digest: route.digest });
}

/**
 * The audit trail's view of a call: the ECR action, the repository and reference; reads
 * (GET, HEAD) are pulls, counted per principal and minute rather than one record each.
 */
function auditNoteOf(
  route: DistributionRoute,
  method: string,
  action: string,
  query: Record<string, string>,
): AuditNote {
  const reference = "reference" in route ? route.reference : "digest" in route ? route.digest : undefined;
  return {
    eventName: action.replace(/^ecr:/, ""),
    repository: route.name,
    // A tag is a parameter; only a digest is the image's.
    ...(reference?.includes(":") === true ? { digest: reference } : {}),
    aggregate: method === "GET" || method === "HEAD",
    requestParameters: {
      repositoryName: route.name,
      ...(reference === undefined ? {} : { reference }),
      ...("id" in route ? { uploadId: route.id } : {}),
      // A completed upload's digest, a cross-repository mount's source.
      ...Object.fromEntries(Object.entries(query).filter(([name]) => ["digest", "mount", "from"].includes(name))),
    },
  };
}

export const distribution = new Hono<AppEnv>({ strict: false });

distribution.use("*", async (c, next) => {
  await next();
  c.res.headers.set("Docker-Distribution-API-Version", "registry/2.0");
});

// The audit trail learns the call's action and repository before authentication, so a refused
// request is recorded with them.
distribution.use(
  "*",
  createMiddleware<AppEnv>(async (c, next) => {
    const path = new URL(c.req.url).pathname.replace(/^\/v2\/?/, "");
    if (path === "_catalog") {
      noteAudit(c, { eventName: "DescribeRepositories", aggregate: true, requestParameters: c.req.query() });
    } else {
      const route = parseDistributionPath(path);
      const operation = route === null ? undefined : operationFor(route, c.req.method);
      if (route !== null && operation !== undefined)
        noteAudit(c, auditNoteOf(route, c.req.method, operation.action, c.req.query()));
    }
    await next();
  }),
);

distribution.use("*", authenticate);

distribution.get("/", async (c) => {
  if (c.get("caller").kind === "anonymous")
    throw unauthorized(c, await authConfig(c.var.settings.auth), null, "authentication required");
  return c.json({});
});

distribution.get("/_catalog", async (c) => {
  if (c.get("caller").kind === "anonymous") {
    throw unauthorized(c, await authConfig(c.var.settings.auth), "registry:catalog:*", "authentication required");
  }
  return getCatalog(c);
});

distribution.all("/*", async (c) => {
  const path = new URL(c.req.url).pathname.replace(/^\/v2\//, "");
  const route = parseDistributionPath(path);
  if (!route) throw new RegistryError(OciError.NOT_FOUND, `no registry resource at ${new URL(c.req.url).pathname}`);
  requireName(route.name);
  const operation = operationFor(route, c.req.method);
  if (!operation) {
    throw new RegistryError(OciError.UNSUPPORTED, `${c.req.method} is not supported on ${route.kind} resources`);
  }
  const config = await authConfig(c.var.settings.auth);
  if (!(await authorizedByUrl(c, config, route)))
    await requireRepositoryAccess(c, config, route.name, operation.action);
  if (PUSH_ACTIONS.has(operation.action)) await refusePushIntoCache(c, route.name, OciError.DENIED);
  return operation.handle(c, route);
});
