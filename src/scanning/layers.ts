/**
 * Reads one image layer as a stream: the blob from R2, decompressed by the runtime's
 * DecompressionStream (gzip), its tar entries read one at a time (modern-tar), and each entry
 * either skipped (its bytes drained, never kept), read whole (a package database, under a
 * size cap), or fed chunk by chunk to a scanner (a binary). Whiteouts are reported for the
 * merge across layers (./merge.ts). zstd layers are not decoded: the scan reports them as an
 * unsupported image, with the reason.
 */
import { createTarDecoder, type ParsedTarEntry } from "modern-tar";
import { normalizePath } from "./inventory/paths";

export type LayerCompression = "gzip" | "none" | "zstd";

/** The compression of a layer media type; null for one that is not a filesystem layer. */
export function layerCompression(mediaType: string): LayerCompression | null {
  switch (mediaType) {
    case "application/vnd.oci.image.layer.v1.tar+gzip":
    case "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip":
    case "application/vnd.docker.image.rootfs.diff.tar.gzip":
    case "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
      return "gzip";
    case "application/vnd.oci.image.layer.v1.tar":
    case "application/vnd.oci.image.layer.nondistributable.v1.tar":
      return "none";
    case "application/vnd.oci.image.layer.v1.tar+zstd":
    case "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
      return "zstd";
    default:
      return null;
  }
}

/** A regular file's facts, as the visitor sees them. */
export interface LayerFileHeader {
  /** Path in the image without a leading `/` or `./` (`var/lib/dpkg/status`). */
  path: string;
  size: number;
  mode: number;
}

/** A scanner fed a file chunk by chunk (a Go binary's build info). */
export interface StreamScanner {
  push(chunk: Uint8Array): void;
  /** True once it needs no more bytes: the rest of the file is skipped. */
  done(): boolean;
  finish(): Promise<void>;
}

/** What the layer reader asks about each regular file. */
export interface LayerVisitor {
  /** "whole": give me its bytes (it is at most `cap` bytes, else skipped); a scanner; or null. */
  wants(file: LayerFileHeader): { whole: true } | { scanner: StreamScanner } | null;
  whole(file: LayerFileHeader, bytes: Uint8Array): Promise<void>;
}

export interface LayerWhiteouts {
  /** Paths this layer deletes from the layers below (`.wh.<name>`). */
  deleted: string[];
  /** Directories whose contents from the layers below this layer hides (`.wh..wh..opq`). */
  opaque: string[];
}

/** The runtime cannot read the layer (corrupt compression or tar): the scan fails with this reason. */
export class UnreadableLayerError extends Error {}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** Reads the layer's tar stream, calling the visitor for regular files; returns the whiteouts. */
export async function readLayer(
  body: ReadableStream<Uint8Array>,
  compression: "gzip" | "none",
  visitor: LayerVisitor,
): Promise<LayerWhiteouts> {
  const tar = compression === "gzip" ? body.pipeThrough(new DecompressionStream("gzip")) : body;
  const whiteouts: LayerWhiteouts = { deleted: [], opaque: [] };
  try {
    for await (const entry of tar.pipeThrough(createTarDecoder({ strict: true }))) {
      await visitEntry(entry, visitor, whiteouts);
    }
  } catch (error) {
    if (error instanceof UnreadableLayerError) throw error;
    throw new UnreadableLayerError(
      `the layer could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return whiteouts;
}

async function visitEntry(entry: ParsedTarEntry, visitor: LayerVisitor, whiteouts: LayerWhiteouts): Promise<void> {
  const path = normalizePath(entry.header.name).replace(/\/+$/, "");
  const slash = path.lastIndexOf("/");
  const base = path.slice(slash + 1);
  const dir = slash < 0 ? "" : path.slice(0, slash);
  if (base === OPAQUE) whiteouts.opaque.push(dir);
  else if (base.startsWith(WHITEOUT))
    whiteouts.deleted.push(dir === "" ? base.slice(WHITEOUT.length) : `${dir}/${base.slice(WHITEOUT.length)}`);
  const type = entry.header.type ?? "file";
  const file = { path, size: entry.header.size, mode: entry.header.mode ?? 0 };
  const wanted = type === "file" && !base.startsWith(WHITEOUT) ? visitor.wants(file) : null;
  if (wanted === null) {
    await entry.body.cancel();
    return;
  }
  if ("whole" in wanted) {
    await visitor.whole(file, new Uint8Array(await new Response(entry.body).arrayBuffer()));
    return;
  }
  const reader = entry.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    wanted.scanner.push(value);
    if (wanted.scanner.done()) {
      await reader.cancel();
      break;
    }
  }
  await wanted.scanner.finish();
}
