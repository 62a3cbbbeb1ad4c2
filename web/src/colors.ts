// Colour maps for points: a categorical palette for classes and viridis for numeric values.
import type { LabelArray } from "./types";

/** RGB triple with components in 0..255. */
export type Rgb = [number, number, number];

// Tableau 10 followed by its lighter variants; further classes get golden-angle hues.
const CATEGORICAL: Rgb[] = [
  [78, 121, 167], [242, 142, 43], [225, 87, 89], [118, 183, 178], [89, 161, 79],
  [237, 201, 72], [176, 122, 161], [255, 157, 167], [156, 117, 95], [186, 176, 172],
  [160, 203, 232], [255, 190, 125], [255, 157, 154], [134, 188, 182], [140, 209, 125],
  [241, 206, 99], [212, 166, 200], [250, 191, 210], [215, 181, 166], [121, 112, 110],
];

// Viridis sampled at 9 evenly spaced stops; values in between are interpolated linearly.
const VIRIDIS: Rgb[] = [
  [68, 1, 84], [71, 45, 123], [59, 82, 139], [44, 114, 142], [33, 145, 140],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

/** Colour of class `code`. */
export function classColor(code: number): Rgb {
  if (code < CATEGORICAL.length) return CATEGORICAL[code];
  const hue = (code * 137.508) % 360;
  return hslToRgb(hue, 0.55, 0.55);
}

/** Viridis colour of `t` in [0, 1]; values outside are clamped. */
export function viridis(t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
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

/** Per-point RGBA bytes (4 per point) coloured by class code. */
export function colorsByClass(codes: LabelArray): Uint8Array {
  const out = new Uint8Array(codes.length * 4);
  const cache = new Map<number, Rgb>();
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    let rgb = cache.get(code);
    if (!rgb) {
      rgb = classColor(code);
      cache.set(code, rgb);
    }
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

function hslToRgb(hue: number, saturation: number, lightness: number): Rgb {
  const c = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const x = c * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = lightness - c / 2;
  const sector = Math.floor(hue / 60) % 6;
  const table: Rgb[] = [[c, x, 0], [x, c, 0], [0, c, x], [0, x, c], [x, 0, c], [c, 0, x]];
  const [r, g, b] = table[sector];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}
