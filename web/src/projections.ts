// Choice of the projection shown when the URL names none.
import type { ProjectionInfo } from "./types";

/**
 * Methods in the order the explorer prefers them. FastMap comes first because the report's main
 * map is the fastmap-2d figure, and umap-2d is that figure in runs without FastMap. The others
 * follow the order of the command line's default projections.
 */
const PREFERRED_METHODS = ["fastmap", "umap", "tsne", "pca", "latent"];

/**
 * Pick the projection to show first: a 2D map before a 3D one, and within each, the methods of
 * PREFERRED_METHODS in that order before any other, which keep the server's order.
 */
export function defaultProjection(projections: ProjectionInfo[]): ProjectionInfo | undefined {
  const rank = (p: ProjectionInfo, position: number): [number, number, number] => {
    const method = p.name.replace(/-[23]d$/, "");
    const preferred = PREFERRED_METHODS.indexOf(method);
    return [p.dims === 2 ? 0 : 1, preferred >= 0 ? preferred : PREFERRED_METHODS.length, position];
  };
  const ranked = projections.map((p, position) => ({ p, key: rank(p, position) }));
  ranked.sort((x, y) => x.key[0] - y.key[0] || x.key[1] - y.key[1] || x.key[2] - y.key[2]);
  return ranked[0]?.p;
}
