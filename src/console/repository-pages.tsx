/**
 * (Being written.) Pages of the web surface; see src/console/index.ts.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";

export const repositoryPages = new Hono<AppEnv>();
