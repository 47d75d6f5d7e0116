export const SECRET_NAMES: string[];
export function newSigningKeyJwk(): Promise<{ kty: string; crv: string; x: string; y: string; d: string; kid: string; alg: string }>;
export function newAdminKey(): { id: string; secret: string };
export function newSecretsKey(): string;
export function ensureDevVars(path: string): Promise<boolean>;
export function readDevVars(path: string): Record<string, string>;
