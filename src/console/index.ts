/**
 * The web surface: the public gallery at `/` (anonymous) and the console under `/console`
 * (signed in), server-rendered with Hono's JSX, no script, every page under a strict CSP
 * (./security.ts). Each group of pages is its own module.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { authPages } from "./auth-pages";
import { galleryPages } from "./gallery";
import { registryPages } from "./registry-pages";
import { repositoryPages } from "./repository-pages";
import { withPageSecurity } from "./security";
import { staticRoutes } from "./static";

export const web = new Hono<AppEnv>({ strict: false });

// Only the web pages' paths: this app is mounted at `/` beside the API, whose answers keep
// their own headers.
for (const path of ["/", "/gallery/*", "/console", "/console/*", "/static/*"]) web.use(path, withPageSecurity);
web.route("/", staticRoutes);
web.route("/", authPages);
web.route("/", galleryPages);
web.route("/", repositoryPages);
web.route("/", registryPages);
