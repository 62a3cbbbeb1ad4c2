// Legend beside the map: classes with counts (click to hide or show) or a colour bar for values.
import { cssColor, type Rgb, viridisGradient } from "./colors";
import { formatNumber, h } from "./dom";
import type { LabelInfo } from "./types";

/** Maximum number of class rows drawn; the rest are summarised in one line. */
const MAX_ROWS = 200;

export class Legend {
  constructor(
    private readonly element: HTMLElement,
    /** Called with a class code when its row is clicked, or null for "show all". */
    private readonly onToggle: (code: number | null) => void,
  ) {}

  /** Show class rows in the colours of `palette` (indexed by code); `hidden` classes are drawn switched off. */
  showClasses(labels: LabelInfo, palette: Rgb[], hidden: Set<number>): void {
    const title = h("div", { class: "legend-title" }, h("span", {}, "Label"));
    if (hidden.size > 0) {
      const all = h("button", { type: "button", testid: "legend-show-all" }, "show all");
      all.addEventListener("click", () => this.onToggle(null));
      title.append(all);
    }
    const rows = labels.names.slice(0, MAX_ROWS).map((name, code) => {
      const row = h(
        "button",
        { type: "button", class: hidden.has(code) ? "legend-item off" : "legend-item", testid: "legend-item", "data-code": code },
        h("span", { class: "swatch" }),
        h("span", { class: "legend-name", testid: "legend-name", title: name }, name),
        h("span", { class: "legend-count", testid: "legend-count" }, (labels.counts[code] ?? 0).toLocaleString("en-US")),
      );
      (row.firstElementChild as HTMLElement).style.background = cssColor(palette[code]);
      row.title = hidden.has(code) ? "Show this class" : "Hide this class";
      row.addEventListener("click", () => this.onToggle(code));
      return row;
    });
    const extra = labels.names.length > MAX_ROWS ? h("div", { class: "muted" }, `${labels.names.length - MAX_ROWS} more classes not listed`) : null;
    this.element.replaceChildren(title, ...rows, extra ?? "");
  }

  /** Show a viridis colour bar for a numeric source. */
  showRange(title: string, min: number, max: number): void {
    const bar = h("div", { class: "gradient" });
    bar.style.background = viridisGradient();
    this.element.replaceChildren(
      h("div", { class: "legend-title" }, h("span", { testid: "legend-range-title" }, title)),
      bar,
      h("div", { class: "gradient-range" }, h("span", {}, formatNumber(min)), h("span", {}, formatNumber(max))),
    );
  }

  clear(): void {
    this.element.replaceChildren();
  }
}
