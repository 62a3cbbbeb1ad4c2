// Shapes of the explorer HTTP API (/api/*), written by hand to match the server.

/** Kind of the per-item label: class codes, a continuous value, or none. */
export type LabelKind = "class" | "continuous" | "none";

/** Inverse mapping that turned a projection position into a latent vector. */
export type InverseKind = "exact" | "knn-weighted" | "latent";

export interface LabelInfo {
  /** Kind of label stored per item. */
  kind: LabelKind;
  /** Class names, indexed by label code (class labels only). */
  names: string[];
  /** Number of items per class, indexed by label code (class labels only). */
  counts: number[];
  /** Smallest value (continuous labels only). */
  min?: number;
  /** Largest value (continuous labels only). */
  max?: number;
  /** Element type of the /api/labels binary body. */
  dtype: "uint8" | "uint16" | "float32";
}

export interface ProjectionInfo {
  /** Name used in query strings, for example "umap-2d". */
  name: string;
  /** Number of coordinates per point: 2 or 3. */
  dims: 2 | 3;
  /** Inverse mapping used when decoding a position on this projection. */
  inverse: InverseKind;
  /** One line on how trustworthy that inverse mapping is. */
  inverse_note: string;
  /** Per-axis [min, max] of the coordinates: [[xmin, ymin(, zmin)], [xmax, ymax(, zmax)]]. */
  bounds: [number[], number[]];
}

export interface ThumbnailInfo {
  /** Number of items with a tile; tile i belongs to item i. */
  count: number;
  /** Tile width and height in pixels. */
  tile: [number, number];
  /** Tiles per atlas row. */
  per_row: number;
  /** Tiles per atlas image. */
  per_atlas: number;
  /** Number of atlas images. */
  atlases: number;
}

export interface SpaceInfo {
  /** Data set or run name shown in the title. */
  name: string;
  /** Number of items (points on the map). */
  n_points: number;
  /** Number of latent dimensions. */
  latent_dim: number;
  /** Model name, for example "vae"; null for a space built from precomputed embeddings. */
  model: string | null;
  /** False for explore-only spaces: decoding, walks and sampling are unavailable. */
  has_decoder: boolean;
  /** Reason decoding is unavailable when has_decoder is false. */
  decoder_note: string | null;
  /** True when items are images, so thumbnails and decoded images exist. */
  is_image: boolean;
  /** Shape of one item, for example [1, 28, 28]. */
  sample_shape: number[];
  /** Per-item labels. */
  labels: LabelInfo;
  /** Available maps of the latent space. */
  projections: ProjectionInfo[];
  /** Names of float columns that can colour the map. */
  numeric_columns: string[];
  /** Sprite atlas layout, or null when items have no thumbnails. */
  thumbnails: ThumbnailInfo | null;
  /** Server-side request limits: max_k, max_steps, max_samples, max_search_limit, ... */
  limits: Partial<Record<string, number>>;
  /** Per-dimension latent range that the traversal sliders span. */
  latent_range?: { min: number[]; max: number[] };
}

export interface ItemInfo {
  index: number;
  id: string;
  label: string | number | null;
  metadata: Record<string, unknown>;
  /** PNG data URL of the item, or null for non-image data. */
  image: string | null;
  /** PNG data URL of the decoded reconstruction, or null without a decoder. */
  reconstruction: string | null;
  /** Feature values for non-image data. */
  row?: number[] | null;
  /** Decoded reconstruction's feature values for non-image data. */
  reconstruction_row?: number[] | null;
  /** Latent vector of the item (latent_dim floats). */
  latent?: number[];
}

export interface Neighbor {
  index: number;
  id: string;
  label: string | number | null;
  /** Distance in the latent space. */
  distance: number;
}

export interface NeighborsResponse {
  index: number;
  k: number;
  neighbors: Neighbor[];
}

export interface SearchResponse {
  indices: number[];
  /** Number of matches before the limit was applied. */
  total: number;
}

export interface DecodeResponse {
  image?: string | null;
  row?: number[] | null;
  latent: number[];
  inverse: InverseKind;
}

/** Decoded points of a walk: images for image data, rows of feature values otherwise. */
export interface WalkResponse {
  images: string[] | null;
  rows: number[][] | null;
  latents: number[][];
  /** Positions on the requested projection, or null when none was requested. */
  positions: number[][] | null;
  /** Placement method of the points on the map. */
  placement: "transform" | "nearest-neighbours" | null;
}

export type InterpolateResponse = WalkResponse;

export interface SampleResponse extends WalkResponse {
  /** Seed that reproduces the draws. */
  seed: number;
}

/** Per-item values used to colour points. */
export type LabelArray = Uint8Array | Uint16Array | Float32Array;
