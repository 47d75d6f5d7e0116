// Types of images.mjs for the TypeScript tests that build large layouts with it.
export const MiB: number;
export const OCI_MANIFEST: string;
export const OCI_CONFIG: string;
export const OCI_LAYER_TAR: string;
export const OCI_LAYER_TAR_GZIP: string;

export interface WrittenBlob {
  digest: string;
  size: number;
  path: string;
}

export interface BuiltLayout {
  dir: string;
  tag: string;
  ref: string;
  layers: WrittenBlob[];
  config: WrittenBlob & { bytes: Buffer };
  manifest: WrittenBlob & { bytes: Buffer };
  layerBytes: number;
  totalBytes: number;
}

export function writeRandomTarLayer(blobsDir: string, size: number, name?: string): Promise<WrittenBlob>;
export function buildLayout(dir: string, layerSizes: readonly number[], tag?: string): Promise<BuiltLayout>;
export function tarHeader(name: string, size: number, options?: { mode?: number; type?: string }): Buffer;
export function writeJsonBlob(blobsDir: string, object: unknown): WrittenBlob & { bytes: Buffer };
export function writeLayout(
  dir: string,
  layers: readonly (WrittenBlob & { diffId?: string })[],
  tag: string,
  layerMediaType?: string,
): BuiltLayout;
