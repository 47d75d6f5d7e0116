/**
 * The AWS SDK's ECR client pointed at the registry under test, and helpers for the control
 * plane tests: users with access keys and policies, and checking modeled exceptions.
 */
import { ECRClient, ECRServiceException } from "@aws-sdk/client-ecr";
import { expect, inject } from "vitest";
import { registryFetch } from "./context";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export const REGION = "us-east-1";
export const ACCOUNT_ID = "000000000000";

export function adminCredentials(): Credentials {
  return { accessKeyId: inject("adminAccessKeyId"), secretAccessKey: inject("adminSecretAccessKey") };
}

/** An ECR client for the registry; no retries, so each call is one request. */
export function ecrClient(credentials: Credentials = adminCredentials()): ECRClient {
  return new ECRClient({ endpoint: inject("registryUrl"), region: REGION, credentials, maxAttempts: 1 });
}

/** Creates a user with the given identity policy and returns a fresh access key of it. */
export async function createUser(name: string, policy?: object): Promise<Credentials> {
  const created = await registryFetch("POST", "/admin/users", {
    body: JSON.stringify({ name }),
    headers: { "Content-Type": "application/json" },
  });
  if (created.status !== 201) throw new Error(`create user ${name}: ${created.status} ${await created.text()}`);
  if (policy) {
    const put = await registryFetch("PUT", `/admin/users/${name}/policies/main`, {
      body: JSON.stringify(policy),
      headers: { "Content-Type": "application/json" },
    });
    if (!put.ok) throw new Error(`put policy of ${name}: ${put.status} ${await put.text()}`);
  }
  const key = await registryFetch("POST", `/admin/users/${name}/access-keys`);
  if (key.status !== 201) throw new Error(`create key of ${name}: ${key.status} ${await key.text()}`);
  const body = (await key.json()) as { accessKeyId: string; secretAccessKey: string };
  return { accessKeyId: body.accessKeyId, secretAccessKey: body.secretAccessKey };
}

/** A unique repository name for one test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Expects the call to fail with ECR's exception `name` (HTTP 400 unless given). */
export async function expectEcrError(call: Promise<unknown>, name: string, status = 400): Promise<ECRServiceException> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${name}`).toBeInstanceOf(Error);
  const error = caught as ECRServiceException;
  expect(error.name, error.message).toBe(name);
  expect(error.$metadata?.httpStatusCode).toBe(status);
  return error;
}
