// Side panel of one item: image and reconstruction, nearest neighbours and latent traversal.
import { decodeLatent, fetchItem, fetchNeighbors } from "./api";
import type { ExplorerContext } from "./context";
import { debounce, decodedFigure, fieldError, formatNumber, h, imageFromDataUrl, labelString, readIntegerField } from "./dom";
import { spriteElement } from "./sprites";
import type { ItemInfo } from "./types";

/** Delay in ms between the last slider move and the decode request. */
const TRAVERSAL_DEBOUNCE_MS = 120;

export class ItemPanel {
  /** Item shown now, or null. */
  index: number | null = null;
  /** Number of neighbours listed. */
  k = 10;

  private request = 0;
  private latent: number[] = [];
  private readonly decodeSoon = debounce(() => void this.decodeTraversal(), TRAVERSAL_DEBOUNCE_MS);

  constructor(
    private readonly ctx: ExplorerContext,
    private readonly itemEl: HTMLElement,
    private readonly neighboursEl: HTMLElement,
    private readonly traversalEl: HTMLElement,
    /** Called by the "Set as A" and "Set as B" buttons. */
    private readonly onPick: (end: "a" | "b", index: number) => void,
  ) {}

  /** Fetch and show item `index`, its neighbours and traversal sliders. */
  async show(index: number): Promise<void> {
    const request = ++this.request;
    this.index = index;
    this.ctx.overlay.marks.item = index;
    this.ctx.overlay.update();
    try {
      const item = await fetchItem(index);
      if (request !== this.request) return;
      this.renderItem(item);
      this.renderTraversal(item);
      await this.loadNeighbours();
    } catch (error) {
      if (request === this.request) this.ctx.setStatus(String((error as Error).message), true);
    }
  }

  clear(): void {
    this.request++;
    this.index = null;
    for (const el of [this.itemEl, this.neighboursEl, this.traversalEl]) {
      el.hidden = true;
      el.replaceChildren();
    }
    this.ctx.overlay.marks.item = null;
    this.ctx.overlay.marks.neighbours = [];
    this.ctx.overlay.update();
  }

  private renderItem(item: ItemInfo): void {
    const figures = h("div", { class: "figure-row" });
    if (item.image) {
      figures.append(h("figure", {}, imageFromDataUrl(item.image, "item", "item-image"), h("figcaption", {}, "original")));
    }
    if (item.reconstruction) {
      const image = imageFromDataUrl(item.reconstruction, "reconstruction", "item-reconstruction");
      figures.append(h("figure", {}, image, h("figcaption", {}, "reconstruction")));
    }

    const facts = h("dl", { class: "facts" });
    const addFact = (name: string, value: string, testid?: string) =>
      facts.append(h("dt", {}, name), h("dd", { testid }, value));
    addFact("id", item.id, "item-id");
    addFact("label", labelString(item.label), "item-label");
    addFact("index", String(item.index));
    for (const [key, value] of Object.entries(item.metadata ?? {})) {
      addFact(key, typeof value === "string" ? value : JSON.stringify(value));
    }

    const rowText = (values: number[]) => values.map((v) => formatNumber(v)).join("  ");
    const row = item.row ? h("div", { class: "row-table", testid: "item-row" }, `values: ${rowText(item.row)}`) : null;
    const recon = item.reconstruction_row
      ? h("div", { class: "row-table", testid: "item-reconstruction-row" }, `reconstruction: ${rowText(item.reconstruction_row)}`)
      : null;
    const buttons = h("div", { class: "row-buttons" });
    if (this.ctx.space.has_decoder) {
      buttons.append(this.button("Set as A", "pick-a", () => this.onPick("a", item.index)));
      buttons.append(this.button("Set as B", "pick-b", () => this.onPick("b", item.index)));
    }
    buttons.append(this.button("Close", "item-close", () => this.ctx.selectItem(null)));

    this.itemEl.replaceChildren(h("h2", {}, "Item"), figures, facts, row ?? "", recon ?? "", buttons);
    this.itemEl.hidden = false;
  }

  private button(text: string, testid: string, onClick: () => void): HTMLButtonElement {
    const button = h("button", { type: "button", testid }, text);
    button.addEventListener("click", onClick);
    return button;
  }

  /** Fetch and list the k nearest neighbours of the shown item. */
  async loadNeighbours(): Promise<void> {
    const index = this.index;
    if (index === null) return;
    const request = this.request;
    const response = await fetchNeighbors(index, this.k);
    if (request !== this.request) return;

    const maxK = this.ctx.space.limits.max_k ?? 100;
    const kInput = h("input", { type: "number", min: 1, max: maxK, step: 1, value: this.k, class: "wide", testid: "neighbours-k", title: `Number of neighbours listed (1–${maxK})` });
    const kError = fieldError("neighbours-k-error");
    kInput.addEventListener("input", () => readIntegerField(kInput, kError, "k", 1, maxK));
    kInput.addEventListener("change", () => {
      const k = readIntegerField(kInput, kError, "k", 1, maxK);
      if (k === null) return;
      this.k = k;
      void this.loadNeighbours().catch((error: Error) => {
        kError.textContent = error.message;
        kError.hidden = false;
      });
    });

    const grid = h("div", { class: "neighbour-grid", testid: "neighbours-list" });
    for (const neighbour of response.neighbors) {
      const thumb = spriteElement(this.ctx.space.thumbnails, neighbour.index, 48) ?? h("span", {});
      const cell = h(
        "button",
        { type: "button", class: "neighbour", testid: "neighbour", "data-index": neighbour.index, title: neighbour.id },
        thumb,
        h("span", { class: "name" }, neighbour.label === null ? neighbour.id : labelString(neighbour.label)),
        h("span", { class: "distance", testid: "neighbour-distance" }, formatNumber(neighbour.distance)),
      );
      cell.addEventListener("click", () => this.ctx.selectItem(neighbour.index));
      grid.append(cell);
    }
    const heading = h("h2", {}, h("span", {}, "Nearest neighbours"), h("label", { class: "field" }, "k ", kInput, h("span", { class: "muted" }, `1–${maxK}`)));
    this.neighboursEl.replaceChildren(heading, kError, grid);
    this.neighboursEl.hidden = false;
    this.ctx.overlay.marks.neighbours = response.neighbors.map((n) => n.index);
    this.ctx.overlay.update();
  }

  private renderTraversal(item: ItemInfo): void {
    if (!this.ctx.space.has_decoder) return;
    if (!item.latent || item.latent.length === 0) {
      this.traversalEl.replaceChildren(h("h2", {}, "Latent traversal"), h("p", { class: "muted" }, "The server sent no latent vector for this item."));
      this.traversalEl.hidden = false;
      return;
    }
    this.latent = [...item.latent];
    const original = [...item.latent];
    const range = this.ctx.space.latent_range;
    const sliders = h("div", { class: "sliders", testid: "traversal-sliders" });
    const inputs: HTMLInputElement[] = [];

    original.forEach((value, dim) => {
      // The slider spans the data set's range and always includes the item's own value.
      const low = Math.min(range?.min[dim] ?? value - 3, value);
      const high = Math.max(range?.max[dim] ?? value + 3, value);
      const input = h("input", { type: "range", min: low, max: high, step: (high - low) / 200 || 0.01, testid: `traversal-slider-${dim}` });
      input.value = String(value);
      const valueText = h("span", { class: "value" }, formatNumber(value));
      input.addEventListener("input", () => {
        this.latent[dim] = Number(input.value);
        valueText.textContent = formatNumber(this.latent[dim]);
        this.decodeSoon();
      });
      inputs.push(input);
      sliders.append(h("span", { class: "muted" }, `z${dim}`), input, valueText);
    });

    const result = h("div", { testid: "traversal-result" }, h("p", { class: "muted" }, "Move a slider to decode the edited latent."));
    const reset = this.button("Reset", "traversal-reset", () => {
      this.latent = [...original];
      inputs.forEach((input, dim) => (input.value = String(original[dim])));
      sliders.querySelectorAll(".value").forEach((el, dim) => (el.textContent = formatNumber(original[dim])));
      this.decodeSoon();
    });
    const heading = h("h2", {}, h("span", {}, "Latent traversal"), reset);
    this.traversalEl.replaceChildren(heading, result, sliders);
    this.traversalEl.hidden = false;
  }

  private async decodeTraversal(): Promise<void> {
    const request = this.request;
    try {
      const response = await decodeLatent(this.latent);
      if (request !== this.request) return;
      const result = this.traversalEl.querySelector('[data-testid="traversal-result"]');
      result?.replaceChildren(decodedFigure(response, "decoded", "traversal-image"));
    } catch (error) {
      this.ctx.setStatus((error as Error).message, true);
    }
  }
}
