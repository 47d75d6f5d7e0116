/**
 * The console's image page: what the manifest is and holds (media type, platforms, layers or
 * the index's manifests, annotations), when it was pushed and pulled, what refers to it
 * (signatures, SBOMs, attestations) and which indexes list it. Links lead to the scan,
 * replication and lifecycle pages (./registry-pages.tsx). Everything shown is escaped by JSX.
 */
import { imageSizesOf, storedImageSize } from "../images/image-sizes";
import { readManifestText } from "../images/manifests";
import { layersOfStored, type StoredLayer } from "../oci/manifest-format";
import { INDEX_TYPES } from "../oci/media-types";
import type { ImageDetail, ListedImage } from "../storage/image-listing";
import { Bytes, shortDigest, Time } from "./format";
import {
  configDescriptor,
  configPlatform,
  indexEntries,
  manifestAnnotations,
  platformText,
  type IndexEntry,
  type Platform,
} from "./manifest-parts";

/** A config larger than this is not read for its platform (real ones are a few kB). */
const MAX_CONFIG_READ = 64 * 1024;

export function imagePath(name: string, digest: string): string {
  return `/console/images/${name}@${digest}`;
}

/** What kind of manifest a row is, in words. */
export function kindOf(image: { mediaType: string; artifactType: string | null; subject: string | null }): string {
  if (INDEX_TYPES.has(image.mediaType)) return "Index";
  if (image.subject !== null) return "Referrer";
  const type = image.artifactType ?? "";
  return type === "" || /config\.v1\+json$|container\.image\.v1\+json$/.test(type) ? "Image" : "Artifact";
}

/** What the page reads beside D1: the bytes when kept in R2, sizes of older rows, the config. */
export interface ImageExtras {
  /** The manifest's text; null when R2 no longer has it. */
  text: string | null;
  size: number;
  childSizes: Map<string, number | null>;
  /** The image's own platform (from its config); null for an index or when not read. */
  platform: Platform | null;
}

/**
 * An image manifest's platform is read from its config blob here: one R2 read of a few kB for
 * one image is cheap (lists never do it). Only a config linked in the repository and small.
 */
async function readConfigPlatform(blobs: R2Bucket, detail: ImageDetail): Promise<Platform | null> {
  const config = detail.config;
  if (config === undefined || config.size > MAX_CONFIG_READ) return null;
  const object = await blobs.get(config.objectKey);
  return object === null ? null : configPlatform(await object.text());
}

export async function loadImageExtras(blobs: R2Bucket, detail: ImageDetail, image: ListedImage): Promise<ImageExtras> {
  const sources = new Map([image, ...detail.children].map((row) => [row.digest, row]));
  const [text, sizes, childSizes, platform] = await Promise.all([
    image.body ?? readManifestText(blobs, image),
    imageSizesOf(blobs, [image], sources),
    Promise.all(detail.children.map(async (child) => [child.digest, await storedImageSize(blobs, child)] as const)),
    INDEX_TYPES.has(image.mediaType) ? null : readConfigPlatform(blobs, detail),
  ]);
  return { text, size: sizes.get(image.digest) ?? 0, childSizes: new Map(childSizes), platform };
}

function scanLink(name: string, digest: string, page: "scans" | "replication"): string {
  return `/console/${page}?${new URLSearchParams({ repository: name, digest }).toString()}`;
}

export function ImageView(props: {
  name: string;
  host: string;
  detail: ImageDetail;
  image: ListedImage;
  extras: ImageExtras;
}) {
  const { name, image, extras, detail } = props;
  const index = INDEX_TYPES.has(image.mediaType);
  const entries = index ? (indexEntries(extras.text) ?? []) : [];
  const annotations = manifestAnnotations(extras.text);
  return (
    <>
      <ul class="links">
        <li>
          <a href={`/console/repositories/${name}`}>{`Repository ${name}`}</a>
        </li>
        <li>
          <a href={scanLink(name, image.digest, "scans")}>Scan findings</a>
        </li>
        <li>
          <a href={scanLink(name, image.digest, "replication")}>Replication status</a>
        </li>
      </ul>
      <Facts {...props} entries={entries} />
      <label for="pull">Pull by digest</label>
      <input id="pull" class="pull" type="text" readonly value={`docker pull ${props.host}/${name}@${image.digest}`} />
      {extras.text === null ? <p class="error">The manifest's bytes could not be read.</p> : null}
      {index ? (
        <IndexManifests name={name} entries={entries} sizes={extras.childSizes} />
      ) : (
        <Layers text={extras.text} />
      )}
      <h2 id="annotations">Annotations</h2>
      {annotations.length === 0 ? (
        <p>None.</p>
      ) : (
        <div class="scroll">
          <table>
            <tbody>
              {annotations.map(([key, value]) => (
                <tr>
                  <th scope="row" class="mono">
                    {key}
                  </th>
                  <td>{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Referrers name={name} detail={detail} />
      {detail.parents.length === 0 ? null : (
        <>
          <h2 id="parents">Listed by indexes</h2>
          <ul>
            {detail.parents.map((parent) => (
              <li>
                <a class="mono" href={imagePath(name, parent)}>
                  {parent}
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

function Facts(props: { name: string; image: ListedImage; extras: ImageExtras; entries: IndexEntry[] }) {
  const { image, extras } = props;
  const platforms = INDEX_TYPES.has(image.mediaType)
    ? props.entries.flatMap((entry) => (entry.platform === null || entry.attestation ? [] : [entry.platform]))
    : extras.platform === null
      ? []
      : [extras.platform];
  const moreTags = image.tagCount - image.tags.length;
  const kind = kindOf(image);
  return (
    <dl class="facts">
      <dt>Digest</dt>
      <dd>
        <code>{image.digest}</code>
      </dd>
      <dt>Tags</dt>
      <dd>
        {image.tagCount === 0 ? <span class="muted">untagged</span> : image.tags.join(", ")}
        {moreTags > 0 ? <span class="muted">{` and ${moreTags} more`}</span> : null}
      </dd>
      <dt>Kind</dt>
      <dd>{kind}</dd>
      <dt>Manifest media type</dt>
      <dd>
        <code>{image.mediaType}</code>
      </dd>
      {image.artifactType === null || kind === "Image" || kind === "Index" ? null : (
        <>
          <dt>Artifact type</dt>
          <dd>
            <code>{image.artifactType}</code>
          </dd>
        </>
      )}
      <dt>Platforms</dt>
      <dd>{platforms.length === 0 ? "—" : platforms.map(platformText).join(", ")}</dd>
      <dt>Image size</dt>
      <dd>
        <Bytes bytes={extras.size} />
      </dd>
      <dt>Manifest size</dt>
      <dd>
        <Bytes bytes={image.size} />
      </dd>
      <dt>Pushed</dt>
      <dd>
        <Time at={image.pushedAt} />
      </dd>
      <dt>Last pulled</dt>
      <dd>
        <Time at={image.lastPulledAt} never="never" />
        {image.pullCount > 0 ? <span class="muted">{` (${image.pullCount} pulls recorded)`}</span> : null}
      </dd>
      {image.subject === null ? null : (
        <>
          <dt>Refers to</dt>
          <dd>
            <a class="mono" href={imagePath(props.name, image.subject)}>
              {image.subject}
            </a>
          </dd>
        </>
      )}
    </dl>
  );
}

function IndexManifests(props: { name: string; entries: IndexEntry[]; sizes: Map<string, number | null> }) {
  return (
    <>
      <h2 id="manifests">Manifests</h2>
      {props.entries.length === 0 ? (
        <p>None.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Manifest</th>
                <th scope="col">Platform</th>
                <th scope="col">Media type</th>
                <th scope="col">Image size</th>
              </tr>
            </thead>
            <tbody>
              {props.entries.map((entry) => (
                <tr>
                  <td>
                    <a class="mono" href={imagePath(props.name, entry.digest)}>
                      {shortDigest(entry.digest)}
                    </a>
                  </td>
                  <td>
                    {entry.attestation ? "attestation" : entry.platform === null ? "—" : platformText(entry.platform)}
                  </td>
                  <td>
                    <code>{entry.mediaType}</code>
                  </td>
                  <td>
                    <Bytes bytes={props.sizes.get(entry.digest) ?? null} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Layers(props: { text: string | null }) {
  const config = configDescriptor(props.text);
  const layers: StoredLayer[] = props.text === null ? [] : (layersOfStored(props.text) ?? []);
  return (
    <>
      <h2 id="layers">Layers</h2>
      {config === null ? null : (
        <p>
          {"Config "}
          <code>{config.digest}</code> (<code>{config.mediaType}</code>, <Bytes bytes={config.size} />)
        </p>
      )}
      {layers.length === 0 ? (
        <p>None.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Digest</th>
                <th scope="col">Size</th>
                <th scope="col">Media type</th>
              </tr>
            </thead>
            <tbody>
              {layers.map((layer, position) => (
                <tr>
                  <td>{position + 1}</td>
                  <td>
                    <code>{layer.digest}</code>
                  </td>
                  <td>
                    <Bytes bytes={layer.size} />
                  </td>
                  <td>
                    <code>{layer.mediaType}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Referrers(props: { name: string; detail: ImageDetail }) {
  return (
    <>
      <h2 id="referrers">Referrers</h2>
      {props.detail.referrers.length === 0 ? (
        <p>No signature, SBOM or other artifact refers to this image.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Manifest</th>
                <th scope="col">Artifact type</th>
                <th scope="col">Size</th>
                <th scope="col">Pushed</th>
              </tr>
            </thead>
            <tbody>
              {props.detail.referrers.map((referrer) => (
                <tr>
                  <td>
                    <a class="mono" href={imagePath(props.name, referrer.digest)}>
                      {shortDigest(referrer.digest)}
                    </a>
                  </td>
                  <td>
                    <code>{referrer.artifactType ?? referrer.mediaType}</code>
                  </td>
                  <td>
                    <Bytes bytes={referrer.size} />
                  </td>
                  <td>
                    <Time at={referrer.pushedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
