import { describe, expect, it } from "vitest";
import { importSecretsKey, openSecret, sealSecret } from "./sealed-secrets";

const keyText = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

describe("sealed secrets", () => {
  it("opens what it sealed, for the same access key only", async () => {
    const key = await importSecretsKey(keyText);
    const sealed = await sealSecret(key, "AKIAONE", "the-secret");
    expect(sealed).not.toContain("the-secret");
    expect(await openSecret(key, "AKIAONE", sealed)).toBe("the-secret");
    expect(await openSecret(key, "AKIATWO", sealed)).toBeNull();
  });

  it("refuses a tampered value and another key", async () => {
    const key = await importSecretsKey(keyText);
    const sealed = await sealSecret(key, "AKIAONE", "the-secret");
    const [version, iv, data] = sealed.split(".");
    const flipped = `${version}.${iv}.${data!.slice(0, -4)}${data!.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
    expect(await openSecret(key, "AKIAONE", flipped)).toBeNull();
    const other = await importSecretsKey(btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))));
    expect(await openSecret(other, "AKIAONE", sealed)).toBeNull();
    expect(await openSecret(key, "AKIAONE", "garbage")).toBeNull();
  });

  it("refuses a key that is not 32 bytes of base64", async () => {
    await expect(importSecretsKey("c2hvcnQ=")).rejects.toThrow(/32 bytes/);
    await expect(importSecretsKey("not base64 !!")).rejects.toThrow(/base64/);
  });
});
