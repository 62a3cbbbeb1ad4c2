// Box or lasso selection of items and its CSV export, built in the browser.
import type { ExplorerContext } from "./context";
import { h } from "./dom";

export class SelectionController {
  /** Selected item indices, sorted ascending. */
  indices: number[] = [];
  /** Search matches offered for selection, or null without a search. */
  matches: number[] | null = null;

  constructor(
    private readonly ctx: ExplorerContext,
    private readonly panel: HTMLElement,
    /** Called after the selection changes. */
    private readonly onChange: () => void,
    /** Resolves the dataset ids of all items, or null when the server has none to send. */
    private readonly loadIds: () => Promise<string[] | null>,
  ) {
    this.render();
  }

  /** Replace the selection, or add to it when `add` is true. */
  set(indices: number[], add = false): void {
    const merged = add ? [...this.indices, ...indices] : indices;
    this.indices = [...new Set(merged)].sort((a, b) => a - b);
    this.render();
    this.onChange();
  }

  setMatches(matches: number[] | null): void {
    this.matches = matches;
    this.render();
  }

  render(): void {
    const count = this.indices.length;
    const exportButton = h("button", { type: "button", testid: "export-csv", disabled: count === 0 }, "Export CSV");
    exportButton.addEventListener("click", () => void this.exportCsv());
    const clear = h("button", { type: "button", testid: "clear-selection", disabled: count === 0 }, "Clear");
    clear.addEventListener("click", () => this.set([]));
    const buttons = h("div", { class: "row-buttons" }, exportButton, clear);
    if (this.matches && this.matches.length > 0) {
      const fromSearch = h("button", { type: "button", testid: "select-matches" }, `Select ${this.matches.length.toLocaleString("en-US")} matches`);
      fromSearch.addEventListener("click", () => this.set(this.matches ?? []));
      buttons.append(fromSearch);
    }
    const text = count === 0 ? "Nothing selected. Use Box or Lasso above the map, shift to add." : `${count.toLocaleString("en-US")} selected`;
    this.panel.replaceChildren(h("h2", {}, "Selection"), h("p", { testid: "selection-count", "data-count": count }, text), buttons);
  }

  /** Download the selection as CSV with index, id and label columns. */
  private async exportCsv(): Promise<void> {
    let ids: string[] | null = null;
    try {
      ids = await this.loadIds();
    } catch (error) {
      this.ctx.setStatus(`Ids unavailable, exporting indices only: ${(error as Error).message}`, true);
    }
    const lines = [ids ? "index,id,label" : "index,label"];
    for (const i of this.indices) {
      const fields = ids ? [String(i), ids[i] ?? "", this.ctx.labelText(i)] : [String(i), this.ctx.labelText(i)];
      lines.push(fields.map(csvField).join(","));
    }
    const blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: `${this.ctx.space.name}-selection.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

/**
 * Quote a CSV field when needed. A leading =, +, @ or tab gets a ' so that spreadsheets show
 * the text instead of running it as a formula.
 */
export function csvField(value: string): string {
  const safe = /^[=+@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
