// Explorer services that the panels use, passed in so that the modules have no import cycles.
import type { MapOverlay } from "./overlay";
import type { ProjectionInfo, SpaceInfo } from "./types";

export interface ExplorerContext {
  /** Metadata of the space being explored. */
  readonly space: SpaceInfo;
  /** Markers over the map. */
  readonly overlay: MapOverlay;
  /** The projection shown now. */
  projection(): ProjectionInfo;
  /** Label text of item `index` ("" when the space has no labels). */
  labelText(index: number): string;
  /** Dataset id of item `index`, or "#index" until the ids have loaded. */
  idOf(index: number): string;
  /** Show item `index` in the side panel; null closes it. */
  selectItem(index: number | null): void;
  /** Show a one-line message under the map; errors are drawn in red. */
  setStatus(text: string, isError?: boolean): void;
  /** Record that the view changed, so the URL is rewritten. */
  viewChanged(): void;
}
