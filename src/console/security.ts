/**
 * Headers every console and gallery page carries: a strict Content-Security-Policy (no script
 * at all, styles and images from this origin only, forms posting only here, never framed), no
 * MIME sniffing, no referrer to other sites, and no caching of a signed-in page.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const withPageSecurity = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const headers = c.res.headers;
  headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("Referrer-Policy", "same-origin");
  headers.set("X-Frame-Options", "DENY");
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
});
