// The view kept in the URL hash, so that a view can be bookmarked and restored.
import type { View } from "./renderer";

export interface UrlState {
  /** Projection name. */
  projection?: string;
  /** Camera state. */
  view?: View;
  /** Item shown in the side panel. */
  item?: number;
  /** Selected item indices, sorted. */
  selection?: number[];
  /** Colour source: "label", a numeric column name or "none". */
  colorBy?: string;
  /** Class codes hidden from the map. */
  hidden?: number[];
}

/** Maximum length of the selection text kept in the URL; larger selections are left out (export them as CSV). */
export const MAX_SELECTION_CHARS = 4000;

/** Parse a hash such as `#p=umap-2d&v=1.5,-2,3&i=12&s=1-5,9&c=label&h=3`. */
export function parseHash(hash: string): UrlState {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const state: UrlState = {};
  const projection = params.get("p");
  if (projection) state.projection = projection;

  const view = numbers(params.get("v"));
  if (view?.length === 3) state.view = { kind: "2d", center: [view[0], view[1]], zoom: view[2] };
  if (view?.length === 6) {
    state.view = { kind: "3d", position: [view[0], view[1], view[2]], target: [view[3], view[4], view[5]] };
  }

  const item = Number(params.get("i") ?? "NaN");
  if (Number.isInteger(item) && item >= 0) state.item = item;
  const selection = params.get("s");
  if (selection) state.selection = decodeRanges(selection);
  const colorBy = params.get("c");
  if (colorBy) state.colorBy = colorBy;
  const hidden = params.get("h");
  if (hidden) state.hidden = decodeRanges(hidden);
  return state;
}

/** Format the state as a hash; returns the hash and whether the selection was too long to keep. */
export function formatHash(state: UrlState): { hash: string; selectionDropped: boolean } {
  const parts: string[] = [];
  if (state.projection) parts.push(`p=${encodeURIComponent(state.projection)}`);
  if (state.view) parts.push(`v=${formatView(state.view)}`);
  if (state.item !== undefined) parts.push(`i=${state.item}`);
  let selectionDropped = false;
  if (state.selection && state.selection.length > 0) {
    const text = encodeRanges(state.selection);
    if (text.length <= MAX_SELECTION_CHARS) parts.push(`s=${text}`);
    else selectionDropped = true;
  }
  if (state.colorBy) parts.push(`c=${encodeURIComponent(state.colorBy)}`);
  if (state.hidden && state.hidden.length > 0) parts.push(`h=${encodeRanges(state.hidden)}`);
  return { hash: parts.length > 0 ? `#${parts.join("&")}` : "", selectionDropped };
}

function formatView(view: View): string {
  const values = view.kind === "2d" ? [...view.center, view.zoom] : [...view.position, ...view.target];
  return values.map((v) => Number(v.toPrecision(6)).toString()).join(",");
}

function numbers(text: string | null): number[] | null {
  if (!text) return null;
  const values = text.split(",").map(Number);
  return values.every(Number.isFinite) ? values : null;
}

/** Sorted unique integers as `a-b` runs and single values: [1,2,3,7] -> "1-3,7". */
export function encodeRanges(sorted: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Inverse of encodeRanges; malformed parts are skipped. */
export function decodeRanges(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) continue;
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    // A run longer than 10 million is malformed input, not a selection.
    if (end < start || end - start > 1e7) continue;
    for (let v = start; v <= end; v++) out.push(v);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}
