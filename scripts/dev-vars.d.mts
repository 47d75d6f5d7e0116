export const SECRET_NAMES: string[];
export function newSigningKeyJwk(): Promise<{
  kty: string;
  crv: string;
  x: string;
  y: string;
  d: string;
  kid: string;
  alg: string;
}>;
export function newAdminKey(): { id: string; secret: string };
export function newSecretsKey(): string;
/** Adds the missing generated settings; returns what was added (e.g. "a token signing key"). */
export function ensureDevVars(path: string, provided?: ReadonlySet<string>): Promise<string[]>;
export function readDevVars(path: string): Record<string, string>;
/** One entry per problem with the secret settings, the message naming the setting; [] when fine. */
export function checkSettings(values: Record<string, string | undefined>): Promise<{ name: string; message: string }[]>;
/** Fresh values of the generated settings named (all by default), by name. */
export function generateSecrets(names?: string[]): Promise<Record<string, string>>;
