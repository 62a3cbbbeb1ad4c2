// Colour maps for points: the report's class palettes for classes and viridis for numeric values.
import type { LabelArray } from "./types";

/** RGB triple with components in 0..255. */
export type Rgb = [number, number, number];

// Class palettes of the report's figures (class_colours in latentspace/figures/common.py), as
// matplotlib 3 defines them: tab10 for up to 10 classes, tab20 for up to 20, turbo beyond that.
const TAB10: Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];
const TAB20: Rgb[] = [
  [31, 119, 180], [174, 199, 232], [255, 127, 14], [255, 187, 120], [44, 160, 44],
  [152, 223, 138], [214, 39, 40], [255, 152, 150], [148, 103, 189], [197, 176, 213],
  [140, 86, 75], [196, 156, 148], [227, 119, 194], [247, 182, 210], [127, 127, 127],
  [199, 199, 199], [188, 189, 34], [219, 219, 141], [23, 190, 207], [158, 218, 229],
];
// NOTE: matplotlib's turbo has 256 entries. These are 33 evenly spaced samples of it, and values
// in between are interpolated linearly, which is within 4 of 255 of matplotlib's colour.
const TURBO: Rgb[] = [
  [48, 18, 59], [57, 42, 115], [64, 64, 162], [68, 86, 199], [70, 107, 227], [70, 128, 246],
  [66, 148, 255], [55, 168, 250], [40, 188, 235], [28, 205, 216], [24, 221, 194], [31, 233, 175],
  [50, 242, 152], [78, 249, 125], [109, 254, 98], [139, 255, 75], [164, 252, 60], [185, 246, 53],
  [205, 236, 52], [223, 223, 55], [238, 207, 58], [248, 190, 57], [253, 172, 52], [254, 150, 43],
  [251, 126, 33], [244, 102, 23], [235, 80, 14], [223, 63, 8], [208, 47, 5], [190, 33, 2],
  [169, 22, 1], [146, 11, 1], [122, 4, 3],
];

/** Colour of points without labels: the first tab10 colour, as in the report's figures. */
export const DEFAULT_POINT_COLOR: Rgb = TAB10[0];
/** Colour of a class that has no items, so it is absent from the report's figures. */
const ABSENT_CLASS_COLOR: Rgb = [190, 190, 190];

// Viridis sampled at 9 evenly spaced stops; values in between are interpolated linearly.
const VIRIDIS: Rgb[] = [
  [68, 1, 84], [71, 45, 123], [59, 82, 139], [44, 114, 142], [33, 145, 140],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

/**
 * Colours of the class codes, indexed by code. Like the report's figures, the palette is chosen
 * by the number of classes that have items, and those classes take its colours in code order.
 */
export function classPalette(counts: number[]): Rgb[] {
  const present = counts.flatMap((count, code) => (count > 0 ? [code] : []));
  const colors: Rgb[] = counts.map(() => ABSENT_CLASS_COLOR);
  present.forEach((code, rank) => (colors[code] = paletteColor(rank, present.length)));
  return colors;
}

/** Colour number `rank` of a palette for `n` classes, as matplotlib's class_colours picks it. */
function paletteColor(rank: number, n: number): Rgb {
  if (n <= TAB10.length) return TAB10[rank];
  if (n <= TAB20.length) return TAB20[rank];
  // matplotlib samples turbo at linspace(0, 1, n).
  return interpolateStops(TURBO, n > 1 ? rank / (n - 1) : 0);
}

/** Viridis colour of `t` in [0, 1]; values outside are clamped. */
export function viridis(t: number): Rgb {
  return interpolateStops(VIRIDIS, t);
}

/** Colour at `t` in [0, 1] of a map given by evenly spaced stops; values outside are clamped. */
function interpolateStops(stops: Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** CSS linear-gradient of the viridis map, left to right. */
export function viridisGradient(): string {
  const stops = VIRIDIS.map((c, i) => `rgb(${c.join(",")}) ${((i / (VIRIDIS.length - 1)) * 100).toFixed(1)}%`);
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

export function cssColor(rgb: Rgb): string {
  return `rgb(${Math.round(rgb[0])}, ${Math.round(rgb[1])}, ${Math.round(rgb[2])})`;
}

/** Per-point RGBA bytes (4 per point) coloured by class code with a palette from classPalette. */
export function colorsByClass(codes: LabelArray, palette: Rgb[]): Uint8Array {
  const out = new Uint8Array(codes.length * 4);
  for (let i = 0; i < codes.length; i++) {
    const rgb = palette[codes[i]] ?? ABSENT_CLASS_COLOR;
    out[i * 4] = rgb[0];
    out[i * 4 + 1] = rgb[1];
    out[i * 4 + 2] = rgb[2];
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Minimum and maximum of the finite values, or [0, 1] when there are none. */
export function finiteRange(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : [0, 1];
}

/** Per-point RGBA bytes coloured by a numeric value with viridis over [min, max]; NaN is grey. */
export function colorsByValue(values: ArrayLike<number>, min: number, max: number): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const span = max > min ? max - min : 1;
  const lut = Array.from({ length: 256 }, (_, i) => viridis(i / 255));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const rgb: Rgb = Number.isFinite(v) ? lut[Math.min(255, Math.max(0, Math.round(((v - min) / span) * 255)))] : [160, 160, 160];
    out[i * 4] = rgb[0];
    out[i * 4 + 1] = rgb[1];
    out[i * 4 + 2] = rgb[2];
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Per-point RGBA bytes, all one colour. */
export function uniformColors(count: number, rgb: Rgb): Uint8Array {
  const out = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) out.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  return out;
}
