/**
 * ECR Public's repository catalog data (`SpencerFrontendService.` Put/GetRepositoryCatalogData,
 * signed for `ecr-public`): the description, badges, markdown texts and logo the gallery shows.
 * Limits are ECR Public's API model's; like ECR Public, architectures and operating systems
 * outside the gallery's badges are kept and returned (the gallery only shows the supported
 * ones). The logo must be a PNG or JPEG, since the gallery serves the bytes under that type.
 */
import { isValidRepositoryName } from "../../oci/grammar";
import { findCatalogData, putCatalogData, type CatalogData, type LogoMediaType } from "../../storage/catalog-records";
import type { ActionHandler, ControlContext } from "../context";
import { checkRegistryId, invalidParameter, type Input, type JsonObject } from "../input";
import { repositoryNotFound, requireRepository } from "./repositories";

/** The badges ECR Public's gallery shows and filters by. */
export const SUPPORTED_ARCHITECTURES: readonly string[] = ["ARM", "ARM 64", "x86", "x86-64"];
export const SUPPORTED_OPERATING_SYSTEMS: readonly string[] = ["Linux", "Windows"];

/** ECR Public's RepositoryName is at most 205 characters (ECR's is 256). */
const MAX_PUBLIC_NAME = 205;
const MAX_DESCRIPTION = 1024;
const MAX_MARKDOWN_TEXT = 25_600;
const MAX_BADGES = 50;
const MAX_BADGE_LENGTH = 50;
/** The model's LogoImageBlob maximum, in decoded bytes. */
export const MAX_LOGO_BYTES = 512_000;
/** The longest base64 text of MAX_LOGO_BYTES bytes. */
const MAX_LOGO_BASE64 = Math.ceil(MAX_LOGO_BYTES / 3) * 4;

const PNG_SIGNATURE = "\x89PNG\r\n\x1a\n";
const JPEG_SIGNATURE = "\xff\xd8\xff";

function publicRepositoryName(ctx: ControlContext): string {
  const name = ctx.input.string("repositoryName", { min: 2, max: MAX_PUBLIC_NAME });
  if (!isValidRepositoryName(name)) {
    throw invalidParameter(
      "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''",
    );
  }
  checkRegistryId(ctx.input, ctx.config.accountId);
  return name;
}

/** The base64 logo, normalized, with its type; undefined for none (an empty blob). */
function readLogo(text: string): { base64: string; mediaType: LogoMediaType } | undefined {
  if (text === "") return undefined;
  const tooLarge = () => invalidParameter(`catalogData.logoImageBlob must be at most ${MAX_LOGO_BYTES} bytes`);
  if (text.length > MAX_LOGO_BASE64) throw tooLarge();
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw invalidParameter("catalogData.logoImageBlob is not base64");
  }
  if (binary.length > MAX_LOGO_BYTES) throw tooLarge();
  const mediaType = binary.startsWith(PNG_SIGNATURE)
    ? "image/png"
    : binary.startsWith(JPEG_SIGNATURE)
      ? "image/jpeg"
      : undefined;
  if (mediaType === undefined) throw invalidParameter("catalogData.logoImageBlob must be a PNG or JPEG image");
  return { base64: btoa(binary), mediaType };
}

/** RepositoryCatalogDataInput, validated member by member. */
function readCatalogData(input: Input): CatalogData {
  const badges = { min: 1, max: MAX_BADGE_LENGTH };
  const description = input.optionalString("description", { max: MAX_DESCRIPTION });
  const architectures = input.optionalStringList("architectures", 0, MAX_BADGES, badges);
  const operatingSystems = input.optionalStringList("operatingSystems", 0, MAX_BADGES, badges);
  const aboutText = input.optionalString("aboutText", { max: MAX_MARKDOWN_TEXT });
  const usageText = input.optionalString("usageText", { max: MAX_MARKDOWN_TEXT });
  const blob = input.optionalString("logoImageBlob");
  const logo = blob === undefined ? undefined : readLogo(blob);
  return {
    ...(description === undefined ? {} : { description }),
    ...(architectures === undefined ? {} : { architectures }),
    ...(operatingSystems === undefined ? {} : { operatingSystems }),
    ...(aboutText === undefined ? {} : { aboutText }),
    ...(usageText === undefined ? {} : { usageText }),
    ...(logo === undefined ? {} : { logoImageBlob: logo.base64, logoMediaType: logo.mediaType }),
  };
}

/** RepositoryCatalogData: the members put, and a logoUrl (the web surface's) instead of the bytes. */
function catalogShape(ctx: ControlContext, name: string, data: CatalogData): JsonObject {
  const origin = `${new URL(ctx.c.req.url).protocol}//${ctx.registryHost}`;
  return {
    ...(data.description === undefined ? {} : { description: data.description }),
    ...(data.architectures === undefined ? {} : { architectures: data.architectures }),
    ...(data.operatingSystems === undefined ? {} : { operatingSystems: data.operatingSystems }),
    ...(data.logoImageBlob === undefined ? {} : { logoUrl: `${origin}/gallery-logo/${name}` }),
    ...(data.aboutText === undefined ? {} : { aboutText: data.aboutText }),
    ...(data.usageText === undefined ? {} : { usageText: data.usageText }),
  };
}

export const catalogActions: Record<string, ActionHandler> = {
  /** Replaces the repository's catalog data with the members given. */
  async PutRepositoryCatalogData(ctx) {
    const name = publicRepositoryName(ctx);
    const input = ctx.input.optionalObject("catalogData");
    if (input === undefined) throw invalidParameter("catalogData is required");
    const data = readCatalogData(input);
    await ctx.authorize("ecr-public:PutRepositoryCatalogData", name);
    if (!(await putCatalogData(ctx.db, name, data, Date.now()))) throw repositoryNotFound(ctx, name);
    return { catalogData: catalogShape(ctx, name, data) };
  },

  /** A repository that was never given catalog data answers an empty catalogData, as ECR Public does. */
  async GetRepositoryCatalogData(ctx) {
    const name = publicRepositoryName(ctx);
    await ctx.authorize("ecr-public:GetRepositoryCatalogData", name);
    const record = await findCatalogData(ctx.db, name);
    if (record === null) await requireRepository(ctx, name);
    return { catalogData: catalogShape(ctx, name, record?.data ?? {}) };
  },
};
