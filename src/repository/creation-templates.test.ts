import { describe, expect, it } from "vitest";
import { prefixCovers, settingsFrom, templateFor, type TemplateSettings } from "./creation-templates";

function template(
  prefix: string,
  appliedFor: string[],
  mutability: TemplateSettings["imageTagMutability"] = "MUTABLE",
): TemplateSettings {
  return {
    prefix,
    appliedFor,
    imageTagMutability: mutability,
    imageTagMutabilityExclusionFilters: "[]",
    repositoryPolicy: null,
    lifecyclePolicy: null,
    resourceTags: { team: prefix },
    encryptionType: "AES256",
    kmsKey: null,
  };
}

describe("prefixCovers", () => {
  it("covers a namespace and its own name, never a longer word, and ROOT covers everything", () => {
    expect(prefixCovers("team-a", "team-a/web")).toBe(true);
    expect(prefixCovers("team-a/", "team-a/web/api")).toBe(true);
    expect(prefixCovers("team-a", "team-a")).toBe(true);
    expect(prefixCovers("team-a", "team-ab/web")).toBe(false);
    expect(prefixCovers("ROOT", "anything/at/all")).toBe(true);
  });
});

describe("templateFor", () => {
  const templates = [
    template("ROOT", ["REPLICATION", "CREATE_ON_PUSH"]),
    template("prod", ["REPLICATION"], "IMMUTABLE"),
    template("prod/payments", ["REPLICATION", "PULL_THROUGH_CACHE"]),
  ];

  it("takes the longest prefix among the templates applied for the reason", () => {
    expect(templateFor(templates, "prod/payments/api", "REPLICATION")?.prefix).toBe("prod/payments");
    expect(templateFor(templates, "prod/web", "REPLICATION")?.prefix).toBe("prod");
    expect(templateFor(templates, "dev/web", "REPLICATION")?.prefix).toBe("ROOT");
    expect(templateFor(templates, "prod/web", "CREATE_ON_PUSH")?.prefix).toBe("ROOT");
    expect(templateFor(templates, "prod/payments/api", "PULL_THROUGH_CACHE")?.prefix).toBe("prod/payments");
    expect(templateFor(templates, "dev/web", "PULL_THROUGH_CACHE")).toBeNull();
    expect(templateFor([], "dev/web", "CREATE_ON_PUSH")).toBeNull();
  });

  it("gives the template's settings, or the defaults without one", () => {
    expect(settingsFrom(templateFor(templates, "prod/web", "REPLICATION"))).toMatchObject({
      imageTagMutability: "IMMUTABLE",
      tags: { team: "prod" },
    });
    expect(settingsFrom(null)).toEqual({
      imageTagMutability: "MUTABLE",
      imageTagMutabilityExclusionFilters: [],
      policy: null,
      lifecyclePolicy: null,
      tags: {},
      encryptionType: "AES256",
      kmsKey: null,
    });
  });
});
