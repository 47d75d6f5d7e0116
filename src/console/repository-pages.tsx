/**
 * The console's repository page (its images) and image page (./image-page.tsx renders it), for
 * the signed-in user. Each page is allowed by the one decision the API makes, with the action
 * the API would need for the same data (DescribeImages for the list; BatchGetImage too for a
 * manifest's contents); a refused page is a 403 whether or not the repository exists, so a
 * page never tells names the user may not see. The page's data is one D1 batch, read before
 * the decision (it needs the repository's policy) and shown only after it.
 */
import { Hono } from "hono";
import type { AppContext, AppEnv } from "../app-env";
import { imageSizesOf } from "../images/image-sizes";
import { flushPullRecords } from "../images/pull-records";
import { isValidRepositoryName, parseDigest } from "../oci/grammar";
import { INDEX_TYPES } from "../oci/media-types";
import { readImageDetail, readRepositoryImagePage, type ListedImage } from "../storage/image-listing";
import type { RepositoryRow } from "../storage/schema";
import { allowedOn, isPublic } from "./access";
import { forbiddenPage, notFoundPage, requireSession } from "./auth-pages";
import { Bytes, NextPage, parseCursor, shortDigest, Time } from "./format";
import { ImageView, imagePath, kindOf, loadImageExtras } from "./image-page";
import { pageHtml } from "./layout";
import { indexEntries, indexPlatforms, platformText, type Platform } from "./manifest-parts";

export const repositoryPages = new Hono<AppEnv>();

/** Images per page: with 100 tagged images a page stays under 60 KB. */
const IMAGES_PER_PAGE = 100;

/** So that this isolate's recent pulls show, as DescribeImages does; a failed write is only logged. */
async function flushPulls(c: AppContext): Promise<void> {
  await flushPullRecords(c).catch((error: unknown) => console.error("pull records: write failed", error));
}

function factsOf(repository: RepositoryRow | undefined) {
  return repository === undefined ? undefined : { policy: repository.policy, tags: repository.tags };
}

repositoryPages.get("/console/repositories/:name{.+}", async (c) => {
  const session = await requireSession(c);
  if (session instanceof Response) return session;
  const name = c.req.param("name");
  if (!isValidRepositoryName(name)) return notFoundPage(c, session, "This repository");
  const all = c.req.query("show") === "all";
  await flushPulls(c);
  const page = await readRepositoryImagePage(c.get("db"), name, {
    all,
    cursor: parseCursor(c.req.query("next")),
    limit: IMAGES_PER_PAGE + 1,
  });
  const facts = factsOf(page.repository);
  if (!(await allowedOn(c, session.principal, "ecr:DescribeImages", name, facts)))
    return forbiddenPage(c, session, `list the images of ${name}`);
  if (page.repository === undefined) return notFoundPage(c, session, `Repository ${name}`);
  const [describable, publicRepository] = await Promise.all([
    allowedOn(c, session.principal, "ecr:DescribeRepositories", name, facts),
    isPublic(c, name, facts),
  ]);
  const images = page.images.slice(0, IMAGES_PER_PAGE);
  const last = images[images.length - 1];
  const next =
    page.images.length > IMAGES_PER_PAGE && last !== undefined ? { pushedAt: last.pushedAt, key: last.digest } : null;
  const sizes = await imageSizesOf(c.env.BLOBS, images, page.sources);
  const lifecycle = new URLSearchParams({ repository: name });
  return c.html(
    pageHtml({
      title: name,
      session,
      children: (
        <>
          <ul class="links">
            <li>
              <a href="/console">All repositories</a>
            </li>
            {publicRepository ? (
              <li>
                <a href={`/gallery/${name}`}>Public gallery page</a>
              </li>
            ) : null}
            <li>
              <a href={`/console/lifecycle?${lifecycle.toString()}`}>Lifecycle policy</a>
            </li>
            <li>
              <a href={`/console/scans?${lifecycle.toString()}`}>Scan findings</a>
            </li>
          </ul>
          {describable ? <RepositoryFacts repository={page.repository} /> : null}
          <h2 id="images">Images</h2>
          <p>
            {all ? (
              <>
                Every manifest, index children and referrers included.{" "}
                <a href={`/console/repositories/${name}`}>Only pushed images</a>
              </>
            ) : (
              <>
                Images pushed by name (an index's children and referrers are on its page).{" "}
                <a href={`/console/repositories/${name}?show=all`}>Every manifest</a>
              </>
            )}
          </p>
          {images.length === 0 ? <p>No images.</p> : <ImageTable name={name} images={images} sizes={sizes} />}
          <NextPage url={c.req.url} next={next} label="Pages of images" />
        </>
      ),
    }),
  );
});

function RepositoryFacts(props: { repository: RepositoryRow }) {
  const repository = props.repository;
  return (
    <dl class="facts">
      <dt>Created</dt>
      <dd>
        <Time at={repository.createdAt} />
      </dd>
      <dt>Tag mutability</dt>
      <dd>{repository.imageTagMutability}</dd>
      <dt>Scan on push</dt>
      <dd>{repository.scanOnPush ? "On" : "Off"}</dd>
      <dt>Encryption</dt>
      <dd>{repository.encryptionType}</dd>
    </dl>
  );
}

/**
 * Platforms of a row: an index's from its bytes; an image's from an index on the same page
 * listing it (with `?show=all`); otherwise "—", as reading each config from R2 is not cheap.
 */
function platformsOfPage(images: readonly ListedImage[]): Map<string, string> {
  const byChild = new Map<string, Platform>();
  for (const image of images) {
    for (const entry of indexEntries(INDEX_TYPES.has(image.mediaType) ? image.body : null) ?? []) {
      if (entry.platform !== null && !entry.attestation) byChild.set(entry.digest, entry.platform);
    }
  }
  return new Map(
    images.flatMap((image): [string, string][] => {
      if (INDEX_TYPES.has(image.mediaType)) {
        const platforms = indexPlatforms(image.body);
        return platforms.length === 0 ? [] : [[image.digest, platforms.map(platformText).join(", ")]];
      }
      const platform = byChild.get(image.digest);
      return platform === undefined ? [] : [[image.digest, platformText(platform)]];
    }),
  );
}

function TagList(props: { image: ListedImage }) {
  const more = props.image.tagCount - props.image.tags.length;
  if (props.image.tagCount === 0) return <span class="muted">untagged</span>;
  return (
    <>
      {props.image.tags.join(", ")}
      {more > 0 ? <span class="muted">{` and ${more} more`}</span> : null}
    </>
  );
}

function ImageTable(props: { name: string; images: ListedImage[]; sizes: Map<string, number> }) {
  const platforms = platformsOfPage(props.images);
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Image</th>
            <th scope="col">Tags</th>
            <th scope="col">Kind</th>
            <th scope="col">Size</th>
            <th scope="col">Platforms</th>
            <th scope="col">Pushed</th>
            <th scope="col">Last pulled</th>
          </tr>
        </thead>
        <tbody>
          {props.images.map((image) => (
            <tr>
              <td>
                <a class="mono" href={imagePath(props.name, image.digest)}>
                  {shortDigest(image.digest)}
                </a>
              </td>
              <td>
                <TagList image={image} />
              </td>
              <td>{kindOf(image)}</td>
              <td>
                <Bytes bytes={props.sizes.get(image.digest) ?? null} />
              </td>
              <td>{platforms.get(image.digest) ?? "—"}</td>
              <td>
                <Time at={image.pushedAt} />
              </td>
              <td>
                <Time at={image.lastPulledAt} never="never" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** `<name>@<digest>`: a repository name never holds `@`, so the last one splits them. */
function parseImageReference(reference: string): { name: string; digest: string } | null {
  const at = reference.lastIndexOf("@");
  const name = reference.slice(0, at);
  const digest = reference.slice(at + 1);
  if (at < 0 || !isValidRepositoryName(name) || parseDigest(digest) === null) return null;
  return { name, digest };
}

repositoryPages.get("/console/images/:reference{.+}", async (c) => {
  const session = await requireSession(c);
  if (session instanceof Response) return session;
  const reference = parseImageReference(c.req.param("reference"));
  if (reference === null) return notFoundPage(c, session, "This image");
  const { name, digest } = reference;
  await flushPulls(c);
  const detail = await readImageDetail(c.get("db"), name, digest);
  const facts = factsOf(detail.repository);
  const [describe, get] = await Promise.all([
    allowedOn(c, session.principal, "ecr:DescribeImages", name, facts),
    allowedOn(c, session.principal, "ecr:BatchGetImage", name, facts),
  ]);
  if (!describe || !get) return forbiddenPage(c, session, `see the images of ${name}`);
  if (detail.repository === undefined) return notFoundPage(c, session, `Repository ${name}`);
  const image = detail.image;
  if (image === undefined) return notFoundPage(c, session, `Image ${digest} of ${name}`);
  const extras = await loadImageExtras(c.env.BLOBS, detail, image);
  return c.html(
    pageHtml({
      title: `${name}@${shortDigest(digest)}`,
      session,
      children: <ImageView name={name} host={new URL(c.req.url).host} detail={detail} image={image} extras={extras} />,
    }),
  );
});
