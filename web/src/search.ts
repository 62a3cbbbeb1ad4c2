// Search of items by label or id, run in the browser on the labels and ids it has loaded.
import { formatNumber } from "./dom";
import type { LabelArray, LabelInfo } from "./types";

/** Item fields that a query is compared with. */
export type SearchScope = "any" | "label" | "id";

export interface SearchResult {
  /** Matching item indices, sorted ascending. */
  indices: number[];
  /** Number of items matched by their label. */
  byLabel: number;
  /** Number of items matched by their id. */
  byId: number;
  /** Label match rule used: "equal" to a class name, or "contains" when no name is equal. */
  labelMatch: "equal" | "contains" | null;
  /** The item whose id equals the query (ignoring case), if exactly one does. */
  exactId: number | null;
}

/**
 * Find the items whose label or id matches `query`, ignoring case and surrounding spaces.
 *
 * A class label matches when its name equals the query. When no class name is equal, names that
 * contain the query match instead, so part of a long name still finds it. A continuous label
 * matches when it equals the query's number to 3 significant digits. An id matches when it
 * starts with the query. `lowerIds` are the ids of the `n` items in lower case, in index order;
 * with null, ids are not searched.
 */
export function searchItems(
  query: string,
  scope: SearchScope,
  n: number,
  labelInfo: LabelInfo,
  labels: LabelArray | null,
  lowerIds: string[] | null,
): SearchResult {
  const needle = query.trim().toLowerCase();
  const result: SearchResult = { indices: [], byLabel: 0, byId: 0, labelMatch: null, exactId: null };
  if (needle === "") return result;

  const matched = new Uint8Array(n);
  if (scope !== "id" && labels) {
    const test = labelTest(needle, labelInfo);
    if (test) {
      result.labelMatch = test.kind;
      for (let i = 0; i < Math.min(n, labels.length); i++) {
        if (!test.matches(labels[i])) continue;
        matched[i] = 1;
        result.byLabel++;
      }
    }
  }
  if (scope !== "label" && lowerIds) {
    const exact: number[] = [];
    for (let i = 0; i < Math.min(n, lowerIds.length); i++) {
      if (!lowerIds[i].startsWith(needle)) continue;
      matched[i] = 1;
      result.byId++;
      if (lowerIds[i].length === needle.length) exact.push(i);
    }
    if (exact.length === 1) result.exactId = exact[0];
  }
  for (let i = 0; i < matched.length; i++) if (matched[i]) result.indices.push(i);
  return result;
}

/** Test of one label value against the query, or null when no label can match it. */
function labelTest(needle: string, info: LabelInfo): { kind: "equal" | "contains"; matches: (value: number) => boolean } | null {
  if (info.kind === "class") {
    const names = info.names.map((name) => name.trim().toLowerCase());
    let codes = names.flatMap((name, code) => (name === needle ? [code] : []));
    let kind: "equal" | "contains" = "equal";
    if (codes.length === 0) {
      codes = names.flatMap((name, code) => (name.includes(needle) ? [code] : []));
      kind = "contains";
    }
    if (codes.length === 0) return null;
    const wanted = new Set(codes);
    return { kind, matches: (code) => wanted.has(code) };
  }
  if (info.kind === "continuous") {
    const target = Number(needle);
    if (needle === "" || !Number.isFinite(target)) return null;
    const text = formatNumber(target);
    return { kind: "equal", matches: (value) => Number.isFinite(value) && formatNumber(value) === text };
  }
  return null;
}

/** Text such as "1 match by id" or "290 matches: 179 by label, 111 by id". */
export function describeMatches(result: SearchResult, scope: SearchScope): string {
  const total = result.indices.length;
  const head = `${total.toLocaleString("en-US")} ${total === 1 ? "match" : "matches"}`;
  if (total === 0 || scope !== "any") return head;
  const labelWay = result.labelMatch === "contains" ? "by part of a label" : "by label";
  const parts: [number, string][] = [
    [result.byLabel, labelWay],
    [result.byId, "by id"],
  ];
  const found = parts.filter(([count]) => count > 0);
  if (found.length === 1) return `${head} ${found[0][1]}`;
  return `${head}: ${found.map(([count, way]) => `${count.toLocaleString("en-US")} ${way}`).join(", ")}`;
}
