/**
 * The public gallery, anonymous: a search over the public repositories (those whose policy lets
 * anyone pull: ./access.ts isPublic), each one's page (catalog data, tags, pull commands) and
 * logo. A repository that is not public answers exactly as a missing one (404), so the gallery
 * never tells which private names exist. Catalog texts are attacker-controlled: plain ones are
 * escaped by JSX, the Markdown ones rendered by ./markdown.ts, which returns safe HTML.
 */
import { Hono } from "hono";
import { raw } from "hono/html";
import type { AppContext, AppEnv } from "../app-env";
import { imageSizesOf } from "../images/image-sizes";
import { INDEX_TYPES } from "../oci/media-types";
import { isValidRepositoryName } from "../oci/grammar";
import { findCatalogData, findCatalogSummaries, type CatalogSummary } from "../storage/catalog-records";
import { readTagListPage, type ListedTag } from "../storage/image-listing";
import { findRepositoryAccessFacts } from "../storage/repository-records";
import { isPublic, repositoriesAllowed } from "./access";
import { notFoundPage } from "./auth-pages";
import { Bytes, NextPage, parseCursor, Time } from "./format";
import { currentSession } from "./session";
import { pageHtml } from "./layout";
import { renderMarkdown } from "./markdown";
import { indexPlatforms, platformText } from "./manifest-parts";
import { withPageSecurity } from "./security";

export const galleryPages = new Hono<AppEnv>();

/** The most repositories a search shows (of the MAX_LISTED_REPOSITORIES it reads). */
const MAX_RESULTS = 100;
/** Tags per page: with 100 tags a page stays well under 60 KB. */
const TAGS_PER_PAGE = 100;
const MAX_QUERY_LENGTH = 200;
/** A description is cut to this in the results (the repository's page shows it whole). */
const SUMMARY_LENGTH = 300;

function registryHost(c: AppContext): string {
  return new URL(c.req.url).host;
}

function summary(text: string | undefined): string | null {
  if (text === undefined || text === "") return null;
  return text.length > SUMMARY_LENGTH ? `${text.slice(0, SUMMARY_LENGTH)}…` : text;
}

galleryPages.get("/", async (c) => {
  const query = (c.req.query("q") ?? "").trim().slice(0, MAX_QUERY_LENGTH);
  const needle = query.toLowerCase();
  // The gallery shows only what anyone may pull; a signed-in visitor's header says so (no cookie: no query).
  const [publicRepositories, session] = await Promise.all([
    repositoriesAllowed(c, null, "ecr:BatchGetImage"),
    currentSession(c),
  ]);
  const catalog = await findCatalogSummaries(
    c.get("db"),
    publicRepositories.map((repository) => repository.name),
  );
  // Case-insensitive in JavaScript, not SQL: SQLite's lower() folds ASCII only.
  const matches = publicRepositories.filter(
    (repository) =>
      needle === "" ||
      repository.name.toLowerCase().includes(needle) ||
      (catalog.get(repository.name)?.description ?? "").toLowerCase().includes(needle),
  );
  const shown = matches.slice(0, MAX_RESULTS);
  return c.html(
    pageHtml({
      title: "Public repositories",
      session,
      children: (
        <>
          <form method="get" action="/" role="search" class="search">
            <label for="q">Search public repositories</label>
            <input type="search" id="q" name="q" value={query} maxlength={MAX_QUERY_LENGTH} />{" "}
            <button type="submit">Search</button>
          </form>
          <p class="muted" role="status">
            {matches.length === 0
              ? query === ""
                ? "No public repository yet."
                : "No public repository matches."
              : matches.length > shown.length
                ? `The first ${shown.length} of ${matches.length} repositories.`
                : `${matches.length} ${matches.length === 1 ? "repository" : "repositories"}.`}
          </p>
          {shown.length === 0 ? null : (
            <ul class="cards">
              {shown.map((repository) => (
                <ResultCard name={repository.name} catalog={catalog.get(repository.name)} />
              ))}
            </ul>
          )}
        </>
      ),
    }),
  );
});

function ResultCard(props: { name: string; catalog: CatalogSummary | undefined }) {
  const description = summary(props.catalog?.description);
  return (
    <li>
      <a href={`/gallery/${props.name}`}>
        <strong>{props.name}</strong>
      </a>
      {description === null ? null : <p>{description}</p>}
    </li>
  );
}

galleryPages.get("/gallery/:name{.+}", async (c) => {
  const name = c.req.param("name");
  if (!isValidRepositoryName(name)) return notFoundPage(c, null, "This repository");
  const db = c.get("db");
  const [page, catalogs, session] = await Promise.all([
    readTagListPage(db, name, parseCursor(c.req.query("next")), TAGS_PER_PAGE + 1),
    findCatalogSummaries(db, [name]),
    currentSession(c),
  ]);
  // Both reads (the page's batch, the catalog row) run in parallel before the decision, which
  // needs the policy they bring; nothing is shown unless it allows.
  if (page.facts === undefined || !(await isPublic(c, name, page.facts)))
    return notFoundPage(c, null, "This repository");
  const tags = page.tags.slice(0, TAGS_PER_PAGE);
  const last = tags[tags.length - 1];
  const next =
    page.tags.length > TAGS_PER_PAGE && last !== undefined ? { pushedAt: last.pushedAt, key: last.tag } : null;
  const sizes = await imageSizesOf(c.env.BLOBS, tags, page.sources);
  const catalog = catalogs.get(name);
  const host = registryHost(c);
  return c.html(
    pageHtml({
      title: name,
      session,
      children: (
        <>
          <CatalogHeader name={name} catalog={catalog} host={host} tag={headlineTag(tags)} />
          <h2 id="tags">{`Tags (${page.tagCount})`}</h2>
          {tags.length === 0 ? <p>No tags.</p> : <TagTable name={name} host={host} tags={tags} sizes={sizes} />}
          <NextPage url={c.req.url} next={next} label="Pages of tags" />
        </>
      ),
    }),
  );
});

function Badges(props: { label: string; values: string[] | undefined }) {
  if (props.values === undefined || props.values.length === 0) return null;
  return (
    <>
      <dt>{props.label}</dt>
      <dd>
        <ul class="badges">
          {props.values.map((value) => (
            <li class="badge">{value}</li>
          ))}
        </ul>
      </dd>
    </>
  );
}

/** The tag the page's pull command names: `latest` when there is one, else the newest shown. */
function headlineTag(tags: readonly ListedTag[]): string {
  return tags.some((tag) => tag.tag === "latest") ? "latest" : (tags[0]?.tag ?? "latest");
}

function CatalogHeader(props: { name: string; catalog: CatalogSummary | undefined; host: string; tag: string }) {
  const catalog = props.catalog;
  return (
    <>
      <div class="repo-head">
        {catalog?.hasLogo === true ? (
          <img class="logo" src={`/gallery-logo/${props.name}`} alt="" width="64" height="64" />
        ) : null}
        {catalog?.description === undefined || catalog.description === "" ? null : <p>{catalog.description}</p>}
      </div>
      <label for="pull">Pull this repository</label>
      <input
        id="pull"
        class="pull"
        type="text"
        readonly
        value={`docker pull ${props.host}/${props.name}:${props.tag}`}
      />
      <dl class="facts">
        <Badges label="Architectures" values={catalog?.architectures} />
        <Badges label="Operating systems" values={catalog?.operatingSystems} />
      </dl>
      {catalog?.aboutText === undefined || catalog.aboutText === "" ? null : (
        <section aria-labelledby="about">
          <h2 id="about">About</h2>
          <div class="prose">{raw(renderMarkdown(catalog.aboutText))}</div>
        </section>
      )}
      {catalog?.usageText === undefined || catalog.usageText === "" ? null : (
        <section aria-labelledby="usage">
          <h2 id="usage">Usage</h2>
          <div class="prose">{raw(renderMarkdown(catalog.usageText))}</div>
        </section>
      )}
    </>
  );
}

/**
 * Platforms: an index's from its own bytes (read with the page); an image manifest's would take
 * an R2 read of its config per row, so the list shows "—" for it (its console page has it).
 */
function TagPlatforms(props: { tag: ListedTag }) {
  if (!INDEX_TYPES.has(props.tag.mediaType)) return <span class="muted">—</span>;
  const platforms = indexPlatforms(props.tag.body);
  return platforms.length === 0 ? <span class="muted">—</span> : <>{platforms.map(platformText).join(", ")}</>;
}

function TagTable(props: { name: string; host: string; tags: ListedTag[]; sizes: Map<string, number> }) {
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Tag</th>
            <th scope="col">Digest</th>
            <th scope="col">Size</th>
            <th scope="col">Platforms</th>
            <th scope="col">Pushed</th>
            <th scope="col">Pull command</th>
          </tr>
        </thead>
        <tbody>
          {props.tags.map((tag) => (
            <tr>
              <th scope="row">{tag.tag}</th>
              <td>
                <code>{tag.digest}</code>
              </td>
              <td>
                <Bytes bytes={props.sizes.get(tag.digest) ?? null} />
              </td>
              <td>
                <TagPlatforms tag={tag} />
              </td>
              <td>
                <Time at={tag.pushedAt} />
              </td>
              <td>
                <code>{`docker pull ${props.host}/${props.name}:${tag.tag}`}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// ---- logos --------------------------------------------------------------------------------

// Not a page, but served from the same origin under the same headers (the list in ./index.ts
// names the pages' paths only).
galleryPages.use("/gallery-logo/*", withPageSecurity);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return signature.every((byte, index) => bytes[index] === byte);
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * The logo's bytes under the type they are (checked here too: the bytes, not the stored label,
 * decide), for public repositories only; anything else is a 404.
 */
galleryPages.get("/gallery-logo/:name{.+}", async (c) => {
  const name = c.req.param("name");
  const notFound = () => c.text("Not found", 404);
  if (!isValidRepositoryName(name)) return notFound();
  const db = c.get("db");
  const [facts, catalog] = await Promise.all([findRepositoryAccessFacts(db, [name]), findCatalogData(db, name)]);
  const repositoryFacts = facts.get(name);
  const blob = catalog?.data.logoImageBlob;
  if (repositoryFacts === undefined || blob === undefined || !(await isPublic(c, name, repositoryFacts)))
    return notFound();
  const bytes = decodeBase64(blob);
  if (bytes === null) return notFound();
  const type = startsWith(bytes, PNG_SIGNATURE) ? "image/png" : startsWith(bytes, JPEG_SIGNATURE) ? "image/jpeg" : null;
  if (type === null) return notFound();
  // Short: a repository made private stops showing its logo within minutes.
  return c.body(bytes, 200, { "Content-Type": type, "Cache-Control": "public, max-age=300" });
});
