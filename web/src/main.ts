// Entry point of the explorer: loads the space, draws the map and wires the panels together.
import "./style.css";

import { atlasUrl, fetchColumn, fetchLabels, fetchPoints, fetchSpace, search } from "./api";
import { classPalette, colorsByClass, colorsByValue, DEFAULT_POINT_COLOR, finiteRange, type Rgb, uniformColors } from "./colors";
import type { ExplorerContext } from "./context";
import { byTestId, debounce, fieldError, formatNumber, h, readIntegerField } from "./dom";
import { ItemPanel } from "./itempanel";
import { Legend } from "./legend";
import { type DragMode, MapInput } from "./mapinput";
import { MapOverlay } from "./overlay";
import { defaultProjection } from "./projections";
import { PointRenderer, STATE_HIDDEN, STATE_MATCHED, STATE_SELECTED } from "./renderer";
import { describeMatches, type SearchScope, searchItems } from "./search";
import { SelectionController } from "./selection";
import { spriteElement } from "./sprites";
import type { LabelArray, ProjectionInfo, SpaceInfo } from "./types";
import { formatHash, parseHash, type UrlState } from "./urlstate";
import { WalkController } from "./walk";

/** Delay in ms before a typed search is sent. */
const SEARCH_DEBOUNCE_MS = 250;
/** Delay in ms before the URL is rewritten after the view changes. */
const URL_DEBOUNCE_MS = 250;
/** Distance in CSS pixels from the map's edges inside which the interpolation end points are kept. */
const END_POINT_MARGIN = 36;

class Explorer implements ExplorerContext {
  readonly overlay: MapOverlay;
  private readonly renderer: PointRenderer;
  private readonly map = byTestId("map");
  private readonly legend: Legend;
  private readonly items: ItemPanel;
  private readonly walk: WalkController;
  private readonly selection: SelectionController;
  private readonly input: MapInput;
  private readonly tooltip = byTestId("tooltip");
  private readonly status = byTestId("status");
  private readonly pointCache = new Map<string, { positions: Float32Array; dims: number }>();
  private readonly columnCache = new Map<string, Float32Array>();
  private labels: LabelArray | null = null;
  /** Class colours indexed by code, as in the report's figures. */
  private readonly palette: Rgb[];
  private current: ProjectionInfo;
  private colorBy = "none";
  private hidden = new Set<number>();
  private matches: number[] | null = null;
  private ids: Promise<string[] | null> | null = null;
  private loadedIds: string[] | null = null;
  private lowerIds: string[] | null = null;
  private searchRequest = 0;
  private restoring = false;
  private readonly writeUrlSoon = debounce(() => this.writeUrl(), URL_DEBOUNCE_MS);

  constructor(readonly space: SpaceInfo) {
    this.current = defaultProjection(space.projections) ?? space.projections[0];
    this.palette = classPalette(space.labels.counts);
    this.renderer = new PointRenderer(this.map);
    this.overlay = new MapOverlay(this.map, this.renderer);
    this.legend = new Legend(byTestId("legend"), (code) => this.toggleClass(code));
    this.items = new ItemPanel(this, byTestId("item-panel"), byTestId("neighbours-panel"), byTestId("traversal-panel"), (end, i) =>
      this.walk.setEnd(end, i),
    );
    this.walk = new WalkController(this, byTestId("walk-panel"), byTestId("interpolation-strip"), byTestId("sample-strip"), byTestId("decoded-panel"), (a, b) =>
      this.keepInView([a, b]),
    );
    this.selection = new SelectionController(this, byTestId("selection-panel"), () => this.selectionChanged(), () => this.loadIds());
    this.renderer.onViewChange(() => this.viewChanged());
    this.renderer.onFrame(() => (this.map.dataset.thumbnails = String(this.renderer.showingThumbnails)));
    this.input = new MapInput(this.map, this.renderer, {
      hover: (index, x, y) => this.hover(index, x, y),
      click: (index, x, y, shift) => this.click(index, x, y, shift),
      outline: (polygon) => {
        this.overlay.marks.polygon = polygon;
        this.overlay.update();
      },
      select: (polygon, add) => this.selection.set(this.renderer.indicesInPolygon(polygon), add),
    });
    this.setupHeader();
  }

  // ExplorerContext

  projection(): ProjectionInfo {
    return this.current;
  }

  labelText(index: number): string {
    const labels = this.labels;
    if (!labels || index >= labels.length) return "";
    if (this.space.labels.kind === "class") return this.space.labels.names[labels[index]] ?? String(labels[index]);
    if (this.space.labels.kind === "continuous") return formatNumber(labels[index]);
    return "";
  }

  idOf(index: number): string {
    return this.loadedIds?.[index] ?? `#${index}`;
  }

  selectItem(index: number | null): void {
    if (index === null) this.items.clear();
    else void this.items.show(index);
    byTestId("help-panel").hidden = index !== null;
    this.viewChanged();
  }

  setStatus(text: string, isError = false): void {
    this.status.textContent = text;
    this.status.classList.toggle("error", isError);
  }

  viewChanged(): void {
    const view = this.renderer.getView();
    this.map.dataset.view = JSON.stringify(view);
    if (!this.restoring) this.writeUrlSoon();
  }

  // Loading

  /** Load the first projection and labels, draw the first frame, then restore the URL state. */
  async start(): Promise<void> {
    if (this.space.projections.length === 0) {
      this.setStatus("This space has no projection to draw. Add one with `latentspace project RUN` and reload.", true);
      return;
    }
    const url = parseHash(location.hash);
    const requested = this.space.projections.find((p) => p.name === url.projection);
    if (requested) this.current = requested;

    const hasLabels = this.space.labels.kind !== "none";
    const [points, labels] = await Promise.all([this.points(this.current.name), hasLabels ? fetchLabels(this.space.labels.dtype) : null]);
    this.labels = labels;
    this.renderer.setPoints(points.positions, this.current.dims, this.current.bounds);
    this.colorBy = hasLabels ? "label" : "none";
    await this.applyColors();
    byTestId<HTMLSelectElement>("projection-select").value = this.current.name;

    // The first frame is drawn on the next animation frame. performance.now() counts from the
    // start of navigation, so the time includes loading the page, the metadata and the points.
    requestAnimationFrame(() => {
      const ms = Math.round(performance.now());
      this.map.dataset.firstFrameMs = String(ms);
      this.map.dataset.ready = "true";
      this.setStatus(`${this.space.n_points.toLocaleString("en-US")} points on ${this.current.name}; first frame ${ms} ms after opening the page.`);
    });

    if (this.space.thumbnails && this.space.is_image) {
      this.renderer.setThumbnailSource({ info: this.space.thumbnails, url: atlasUrl });
    }
    await this.applyUrlState(url);
    window.addEventListener("hashchange", () => void this.applyUrlState(parseHash(location.hash)));
    setTimeout(() => void this.loadIds(), 0);
  }

  private async points(name: string): Promise<{ positions: Float32Array; dims: number }> {
    const cached = this.pointCache.get(name);
    if (cached) return cached;
    const loaded = await fetchPoints(name);
    this.pointCache.set(name, loaded);
    return loaded;
  }

  /** Fetch the ids of all items once; null when the server does not provide them. */
  private loadIds(): Promise<string[] | null> {
    this.ids ??= fetch("api/ids").then(async (response) => {
      if (!response.ok) return null;
      const text = await response.text();
      this.loadedIds = text.length > 0 ? text.split("\n") : [];
      this.map.dataset.idsLoaded = "true";
      return this.loadedIds;
    });
    return this.ids;
  }

  private async applyUrlState(url: UrlState): Promise<void> {
    this.restoring = true;
    try {
      const projection = this.space.projections.find((p) => p.name === url.projection);
      if (projection && projection.name !== this.current.name) await this.switchProjection(projection.name);
      if (url.colorBy && url.colorBy !== this.colorBy && this.colorOptions().includes(url.colorBy)) {
        this.colorBy = url.colorBy;
        byTestId<HTMLSelectElement>("color-select").value = url.colorBy;
        await this.applyColors();
      }
      if (url.hidden) {
        this.hidden = new Set(url.hidden);
        this.refreshLegend();
      }
      if (url.view) this.renderer.setView(url.view);
      this.selection.set((url.selection ?? []).filter((i) => i < this.space.n_points));
      if (url.item !== undefined && url.item < this.space.n_points) this.selectItem(url.item);
    } finally {
      this.restoring = false;
    }
    this.viewChanged();
  }

  private writeUrl(): void {
    const item = this.items.index ?? undefined;
    const state: UrlState = {
      projection: this.current.name,
      view: this.renderer.getView(),
      item,
      selection: this.selection.indices,
      colorBy: this.colorBy,
      hidden: [...this.hidden].sort((a, b) => a - b),
    };
    const { hash, selectionDropped } = formatHash(state);
    if (hash !== location.hash) history.replaceState(null, "", hash || location.pathname + location.search);
    if (selectionDropped) this.setStatus("The selection is too large to keep in the URL; export it as CSV to keep it.");
  }

  // Header controls

  private setupHeader(): void {
    const space = this.space;
    byTestId("space-name").textContent = space.name;
    byTestId("space-meta").textContent = `${space.n_points.toLocaleString("en-US")} items · ${space.model ?? "embeddings, no model"} · ${space.latent_dim}-d latent`;

    if (!space.has_decoder) {
      for (const element of document.querySelectorAll<HTMLElement>(".decoder-only")) element.hidden = true;
      const note = byTestId("decoder-note");
      note.textContent = space.decoder_note || "This space has no decoder, so decoding and walks are unavailable.";
      note.hidden = false;
    }

    const projections = byTestId<HTMLSelectElement>("projection-select");
    projections.replaceChildren(...space.projections.map((p) => h("option", { value: p.name }, `${p.name}${p.dims === 3 ? " (3D)" : ""}`)));
    projections.addEventListener("change", () => void this.switchProjection(projections.value));

    const colors = byTestId<HTMLSelectElement>("color-select");
    colors.replaceChildren(...this.colorOptions().map((name) => h("option", { value: name }, name === "label" ? "label" : name)));
    colors.addEventListener("change", () => {
      this.colorBy = colors.value;
      void this.applyColors().then(() => this.viewChanged());
    });

    this.setupSearch();
    this.setupLegendToggle();

    for (const button of document.querySelectorAll<HTMLButtonElement>(".modes button")) {
      button.addEventListener("click", () => this.setMode(button.dataset.mode as DragMode));
    }

    const maxSamples = space.limits.max_samples ?? 256;
    const sampleInput = byTestId<HTMLInputElement>("sample-n");
    sampleInput.max = String(maxSamples);
    sampleInput.title = `Number of draws (1–${maxSamples})`;
    const sampleError = fieldError("sample-n-error");
    const sampleButton = byTestId<HTMLButtonElement>("sample-button");
    sampleButton.after(sampleError);
    sampleInput.addEventListener("input", () => readIntegerField(sampleInput, sampleError, "n", 1, maxSamples));
    sampleButton.addEventListener("click", () => {
      const n = readIntegerField(sampleInput, sampleError, "n", 1, maxSamples);
      if (n !== null) void this.walk.sample(n);
    });
  }

  private setupSearch(): void {
    const input = byTestId<HTMLInputElement>("search-input");
    const scope = byTestId<HTMLSelectElement>("search-scope");
    if (this.space.labels.kind === "none") {
      scope.value = "id";
      scope.hidden = true;
    }
    const searchSoon = debounce(() => void this.runSearch(input.value), SEARCH_DEBOUNCE_MS);
    input.addEventListener("input", searchSoon);
    scope.addEventListener("change", () => void this.runSearch(input.value));
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      void this.runSearch(input.value).then((opened) => {
        if (opened !== null) this.selectItem(opened);
      });
    });
  }

  /** Let the legend panel collapse to a narrow bar, giving its width to the map. */
  private setupLegendToggle(): void {
    const panel = byTestId("legend-panel");
    const toggle = byTestId<HTMLButtonElement>("legend-toggle");
    toggle.addEventListener("click", () => {
      const collapsed = panel.classList.toggle("collapsed");
      toggle.textContent = collapsed ? "Legend ›" : "‹";
      toggle.title = collapsed ? "Show the legend" : "Hide the legend";
      toggle.setAttribute("aria-expanded", String(!collapsed));
    });
  }

  private colorOptions(): string[] {
    const options = this.space.labels.kind !== "none" ? ["label"] : [];
    return [...options, ...this.space.numeric_columns, "none"];
  }

  private setMode(mode: DragMode): void {
    for (const button of document.querySelectorAll<HTMLButtonElement>(".modes button")) {
      button.classList.toggle("active", button.dataset.mode === mode);
    }
    this.input.setMode(mode);
  }

  private async switchProjection(name: string): Promise<void> {
    const projection = this.space.projections.find((p) => p.name === name);
    if (!projection) return;
    this.setStatus(`Loading ${name}…`);
    const points = await this.points(name);
    this.current = projection;
    byTestId<HTMLSelectElement>("projection-select").value = name;
    // Hover, path, samples and the decoded position are in the old map's coordinates or screen.
    this.overlay.clearProjectionMarks();
    this.tooltip.hidden = true;
    this.renderer.setPoints(points.positions, projection.dims, projection.bounds);
    this.map.dataset.projection = name;
    this.walk.projectionChanged();
    this.setStatus(`${this.space.n_points.toLocaleString("en-US")} points on ${name}.`);
    this.viewChanged();
  }

  // Colours, legend, state flags

  private async applyColors(): Promise<void> {
    const n = this.space.n_points;
    const labels = this.labels;
    if (this.colorBy === "label" && labels && this.space.labels.kind === "class") {
      this.renderer.setColors(colorsByClass(labels, this.palette));
    } else if (this.colorBy === "label" && labels) {
      const [min, max] = finiteRange(labels);
      this.renderer.setColors(colorsByValue(labels, min, max));
    } else if (this.space.numeric_columns.includes(this.colorBy)) {
      let column = this.columnCache.get(this.colorBy);
      if (!column) {
        column = await fetchColumn(this.colorBy);
        this.columnCache.set(this.colorBy, column);
      }
      const [min, max] = finiteRange(column);
      this.renderer.setColors(colorsByValue(column, min, max));
    } else {
      this.renderer.setColors(uniformColors(n, DEFAULT_POINT_COLOR));
    }
    this.refreshLegend();
  }

  private refreshLegend(): void {
    const labels = this.space.labels;
    if (this.colorBy === "label" && labels.kind === "class") {
      this.legend.showClasses(labels, this.palette, this.hidden);
    } else if (this.colorBy === "label" && this.labels) {
      const [min, max] = finiteRange(this.labels);
      this.legend.showRange("label", labels.min ?? min, labels.max ?? max);
    } else if (this.columnCache.has(this.colorBy)) {
      const [min, max] = finiteRange(this.columnCache.get(this.colorBy)!);
      this.legend.showRange(this.colorBy, min, max);
    } else {
      this.legend.clear();
    }
    byTestId("legend-panel").hidden = byTestId("legend").childElementCount === 0;
    this.refreshState();
  }

  private toggleClass(code: number | null): void {
    if (code === null) this.hidden.clear();
    else if (this.hidden.has(code)) this.hidden.delete(code);
    else this.hidden.add(code);
    this.refreshLegend();
    this.viewChanged();
  }

  /** Recompute the per-point flags (hidden, selected, matched) and upload them. */
  private refreshState(): void {
    const n = this.space.n_points;
    const flags = new Uint8Array(n);
    const labels = this.labels;
    if (labels && this.space.labels.kind === "class" && this.hidden.size > 0) {
      const hiddenCode = new Uint8Array(this.space.labels.names.length + 1);
      for (const code of this.hidden) if (code < hiddenCode.length) hiddenCode[code] = 1;
      for (let i = 0; i < n; i++) if (hiddenCode[labels[i]]) flags[i] = STATE_HIDDEN;
    }
    for (const i of this.selection.indices) flags[i] |= STATE_SELECTED;
    for (const i of this.matches ?? []) flags[i] |= STATE_MATCHED;
    this.renderer.setState(flags, this.selection.indices.length > 0, this.matches !== null);
  }

  private selectionChanged(): void {
    this.refreshState();
    this.viewChanged();
  }

  // Search

  /**
   * Search the labels and ids for `query` and highlight the matches. Returns the item that Enter
   * opens: the only match, or in the id scope the item whose id equals the query; else null.
   */
  private async runSearch(query: string): Promise<number | null> {
    const request = ++this.searchRequest;
    const count = byTestId("search-count");
    const text = query.trim();
    if (text === "") {
      this.matches = null;
      count.textContent = "";
      count.title = "";
      this.selection.setMatches(null);
      this.refreshState();
      return null;
    }
    const scope = byTestId<HTMLSelectElement>("search-scope").value as SearchScope;
    try {
      const lowerIds = scope === "label" ? null : await this.loadLowerIds();
      const result = searchItems(text, scope, this.space.n_points, this.space.labels, this.labels, lowerIds);
      if (scope !== "label" && lowerIds === null) {
        // NOTE: without /api/ids the server's search replaces the id match. It matches ids and
        // labels that contain the text, so this scope finds more than ids that start with it.
        const limit = this.space.limits.max_search_limit ?? 1000;
        const response = await search(text, limit);
        result.indices = [...new Set([...result.indices, ...response.indices])].sort((a, b) => a - b);
        result.byId = response.indices.length;
      }
      if (request !== this.searchRequest) return null;

      this.matches = result.indices;
      count.textContent = describeMatches(result, scope);
      count.title = count.textContent;
      this.selection.setMatches(this.matches);
      this.refreshState();
      if (result.indices.length === 1) return result.indices[0];
      return scope === "id" ? result.exactId : null;
    } catch (error) {
      if (request === this.searchRequest) this.setStatus((error as Error).message, true);
      return null;
    }
  }

  /** Fetch the item ids and lower-case them once; resolves to null when the server does not provide ids. */
  private async loadLowerIds(): Promise<string[] | null> {
    if (this.lowerIds) return this.lowerIds;
    const ids = await this.loadIds();
    this.lowerIds = ids ? ids.map((id) => id.toLowerCase()) : null;
    return this.lowerIds;
  }

  /** Keep items in view after the map shrinks or a result is drawn (2D maps only). */
  private keepInView(indices: number[]): void {
    const d = this.current.dims;
    const coordinates = this.renderer.coordinates;
    this.renderer.ensureVisible(indices.map((i) => Array.from(coordinates.subarray(i * d, i * d + d))), END_POINT_MARGIN);
  }

  // Pointer

  private hover(index: number | null, x: number, y: number): void {
    this.overlay.marks.hover = index;
    this.overlay.update();
    if (index === null) {
      this.tooltip.hidden = true;
      return;
    }
    const thumb = spriteElement(this.space.thumbnails, index, 56, "tooltip-thumb");
    const label = h("span", { class: "label", testid: "tooltip-label" }, this.labelText(index) || "(no label)");
    const id = h("span", { class: "muted", testid: "tooltip-id" }, `id ${this.idOf(index)}`);
    this.tooltip.replaceChildren(...(thumb ? [thumb] : []), h("div", { class: "text" }, label, id, h("span", { class: "muted" }, `index ${index}`)));
    this.tooltip.dataset.index = String(index);
    this.tooltip.hidden = false;

    // Keep the tooltip inside the map: flip it to the other side of the cursor near an edge.
    const area = this.map.getBoundingClientRect();
    const box = this.tooltip.getBoundingClientRect();
    const left = x + 16 + box.width > area.width ? x - 16 - box.width : x + 16;
    const top = y + 16 + box.height > area.height ? y - 16 - box.height : y + 16;
    this.tooltip.style.left = `${Math.max(0, left)}px`;
    this.tooltip.style.top = `${Math.max(0, top)}px`;
  }

  private click(index: number | null, x: number, y: number, shift: boolean): void {
    if (index !== null) {
      const current = this.items.index;
      if (shift && this.space.has_decoder && current !== null && current !== index) {
        this.walk.setEnds(current, index);
        return;
      }
      this.selectItem(index);
      return;
    }
    if (this.space.has_decoder) void this.walk.decodeAt(this.renderer.screenToWorld(x, y));
  }
}

async function main(): Promise<void> {
  const status = byTestId("status");
  try {
    const space = await fetchSpace();
    await new Explorer(space).start();
  } catch (error) {
    status.textContent = `Could not load the space: ${(error as Error).message}`;
    status.classList.add("error");
  }
}

void main();
