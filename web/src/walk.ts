// Walks that need the decoder: interpolation between two items, prior samples and decoding a
// clicked position. Results appear as strips under the map and as markers on it.
import { decodePosition, interpolate, sample } from "./api";
import type { ExplorerContext } from "./context";
import { decodedFigure, fieldError, formatNumber, h, readIntegerField } from "./dom";
import type { WalkResponse } from "./types";

export type InterpolationMethod = "lerp" | "slerp";

export class WalkController {
  /** Interpolation start item. */
  a: number | null = null;
  /** Interpolation end item. */
  b: number | null = null;
  /** Interpolation method sent to /api/interpolate. */
  method: InterpolationMethod = "lerp";
  /** Number of decoded images on the path, end points included. */
  steps = 10;

  private sampleSeed: number | null = null;
  private sampleCount = 16;
  private request = 0;
  /** Whether the steps field contains a valid value; no path is requested while it does not. */
  private stepsValid = true;
  private readonly minSteps: number;
  private readonly maxSteps: number;
  // The controls are built once, so a typed value and its error message survive a redraw of the panel.
  private readonly methodSelect: HTMLSelectElement;
  private readonly stepsInput: HTMLInputElement;
  private readonly stepsError: HTMLElement;
  private readonly runButton: HTMLButtonElement;
  private readonly clearButton: HTMLButtonElement;

  constructor(
    private readonly ctx: ExplorerContext,
    private readonly panel: HTMLElement,
    private readonly interpolationStrip: HTMLElement,
    private readonly sampleStrip: HTMLElement,
    private readonly decodedPanel: HTMLElement,
    /** Called with items A and B once their path is shown, so the map can keep them in view. */
    private readonly onPathShown: (a: number, b: number) => void,
  ) {
    this.minSteps = ctx.space.limits.min_steps ?? 2;
    this.maxSteps = ctx.space.limits.max_steps ?? 64;

    this.methodSelect = h("select", { testid: "walk-method" }, h("option", { value: "lerp" }, "lerp (straight line)"), h("option", { value: "slerp" }, "slerp (great circle)"));
    this.methodSelect.value = this.method;
    this.methodSelect.addEventListener("change", () => {
      this.method = this.methodSelect.value as InterpolationMethod;
      if (this.a !== null && this.b !== null) void this.run();
    });

    const range = `${this.minSteps}–${this.maxSteps}`;
    this.stepsInput = h("input", { type: "number", min: this.minSteps, max: this.maxSteps, step: 1, value: this.steps, testid: "walk-steps", title: `Number of decoded images on the path, ends included (${range})` });
    this.stepsError = fieldError("walk-steps-error");
    this.stepsInput.addEventListener("input", () => this.readSteps());
    this.stepsInput.addEventListener("change", () => {
      if (this.readSteps() && this.a !== null && this.b !== null) void this.run();
    });

    this.runButton = h("button", { type: "button", class: "primary", testid: "walk-run" }, "Interpolate");
    this.runButton.addEventListener("click", () => void this.run());
    this.clearButton = h("button", { type: "button", testid: "walk-clear" }, "Clear");
    this.clearButton.addEventListener("click", () => this.clearPath());
    this.renderPanel();
  }

  /** Validate the steps field; a valid value becomes `steps`. Returns whether it was valid. */
  private readSteps(): boolean {
    const value = readIntegerField(this.stepsInput, this.stepsError, "Steps", this.minSteps, this.maxSteps);
    this.stepsValid = value !== null;
    if (value !== null) this.steps = value;
    this.updateRunButton();
    return this.stepsValid;
  }

  private updateRunButton(): void {
    this.runButton.disabled = this.a === null || this.b === null || !this.stepsValid;
  }

  /** Set both ends of the path and run it. */
  setEnds(a: number, b: number): void {
    this.a = a;
    this.setEnd("b", b);
  }

  /** Set one end of the path; the walk runs once both ends are set. */
  setEnd(end: "a" | "b", index: number): void {
    if (end === "a") this.a = index;
    else this.b = index;
    this.renderPanel();
    this.ctx.overlay.marks.a = this.a;
    this.ctx.overlay.marks.b = this.b;
    this.ctx.overlay.update();
    if (this.a !== null && this.b !== null) void this.run();
  }

  private renderPanel(): void {
    this.updateRunButton();
    const end = (index: number | null, testid: string) =>
      h("span", { testid }, index === null ? "not set" : `${this.ctx.idOf(index)} (${this.ctx.labelText(index)})`);
    this.panel.replaceChildren(
      h("h2", {}, "Interpolation"),
      h("p", { class: "muted" }, "Click an item, then shift-click a second one; or use Set as A / B."),
      h("div", { class: "walk-grid" },
        h("span", { class: "muted" }, "A"), end(this.a, "walk-a"),
        h("span", { class: "muted" }, "B"), end(this.b, "walk-b"),
        h("span", { class: "muted" }, "method"), this.methodSelect,
        h("span", { class: "muted" }, "steps"),
        h("span", { class: "field-with-range" }, this.stepsInput, h("span", { class: "muted", testid: "walk-steps-range" }, `${this.minSteps}–${this.maxSteps}`)),
      ),
      this.stepsError,
      h("div", { class: "row-buttons", style: "margin-top: 8px" }, this.runButton, this.clearButton),
    );
  }

  /** Decode the path from A to B and draw it on the map and in the strip. */
  async run(): Promise<void> {
    if (this.a === null || this.b === null) return;
    if (!this.readSteps()) {
      this.stepsInput.focus();
      return;
    }
    const request = ++this.request;
    const projection = this.ctx.projection().name;
    this.ctx.setStatus(`Interpolating ${this.steps} steps (${this.method})…`);
    try {
      const response = await interpolate(this.a, this.b, this.steps, this.method, projection);
      if (request !== this.request) return;
      this.ctx.overlay.marks.path = response.positions;
      this.ctx.overlay.update();
      const results = walkResults(response);
      const title = `Interpolation ${this.ctx.idOf(this.a)} → ${this.ctx.idOf(this.b)}`;
      this.fillStrip(this.interpolationStrip, title, `${this.method}, ${results.length} steps`, results, (k, n) => `t=${formatNumber(k / Math.max(1, n - 1), 2)}`, () => this.clearPath());
      this.interpolationStrip.dataset.method = this.method;
      this.ctx.setStatus(`Interpolated ${results.length} steps with ${this.method}.`);
      this.onPathShown(this.a, this.b);
    } catch (error) {
      if (request === this.request) this.ctx.setStatus((error as Error).message, true);
    }
  }

  private clearPath(): void {
    this.request++;
    this.a = null;
    this.b = null;
    Object.assign(this.ctx.overlay.marks, { a: null, b: null, path: null });
    this.ctx.overlay.update();
    this.interpolationStrip.hidden = true;
    this.interpolationStrip.replaceChildren();
    this.renderPanel();
  }

  /** Decode `n` draws from the prior and place them on the map. */
  async sample(n: number): Promise<void> {
    const maxSamples = this.ctx.space.limits.max_samples ?? 256;
    if (!Number.isInteger(n) || n < 1 || n > maxSamples) {
      this.ctx.setStatus(`n must be an integer from 1 to ${maxSamples}; got ${n}`, true);
      return;
    }
    this.sampleCount = n;
    this.sampleSeed = Math.floor(Math.random() * 2 ** 31);
    await this.loadSamples();
  }

  private async loadSamples(): Promise<void> {
    if (this.sampleSeed === null) return;
    try {
      const response = await sample(this.sampleCount, this.sampleSeed, this.ctx.projection().name);
      this.ctx.overlay.marks.samples = response.positions ?? [];
      this.ctx.overlay.update();
      const results = walkResults(response);
      const placement = response.placement === "transform" ? "the projection's transform" : "nearest neighbours";
      const detail = `seed ${response.seed}; placed on the map by ${placement}`;
      this.fillStrip(this.sampleStrip, `${results.length} prior samples`, detail, results, (k) => `#${k + 1}`, () => this.clearSamples());
      this.ctx.setStatus(`Decoded ${results.length} prior samples.`);
    } catch (error) {
      this.ctx.setStatus((error as Error).message, true);
    }
  }

  private clearSamples(): void {
    this.sampleSeed = null;
    this.ctx.overlay.marks.samples = [];
    this.ctx.overlay.update();
    this.sampleStrip.hidden = true;
    this.sampleStrip.replaceChildren();
  }

  /** Decode the latent behind a position on the current projection. */
  async decodeAt(position: number[]): Promise<void> {
    const projection = this.ctx.projection();
    try {
      const response = await decodePosition(projection.name, position);
      this.ctx.overlay.marks.decoded = position;
      this.ctx.overlay.update();
      const where = position.map((v) => formatNumber(v)).join(", ");
      const close = h("button", { type: "button", testid: "decoded-close" }, "Close");
      close.addEventListener("click", () => this.clearDecoded());
      this.decodedPanel.replaceChildren(
        h("h2", {}, h("span", {}, "Decoded position"), close),
        h("div", { class: "figure-row" },
          decodedFigure(response, "decoded", "decoded-image"),
          h("dl", { class: "facts" },
            h("dt", {}, "position"), h("dd", { testid: "decoded-position" }, `(${where})`),
            h("dt", {}, "inverse"), h("dd", { testid: "decoded-inverse" }, response.inverse),
          ),
        ),
        h("p", { class: "muted", testid: "decoded-note" }, projection.inverse_note),
      );
      this.decodedPanel.hidden = false;
      this.decodedPanel.scrollIntoView({ block: "nearest" });
    } catch (error) {
      this.ctx.setStatus((error as Error).message, true);
    }
  }

  private clearDecoded(): void {
    this.ctx.overlay.marks.decoded = null;
    this.ctx.overlay.update();
    this.decodedPanel.hidden = true;
  }

  /**
   * Re-request the path and samples on a new projection; the decoded marker is dropped. The
   * caller clears the old projection's marks first, so none is drawn until the new ones arrive.
   */
  projectionChanged(): void {
    this.clearDecoded();
    if (this.a !== null && this.b !== null) void this.run();
    if (this.sampleSeed !== null) void this.loadSamples();
  }

  private fillStrip(
    strip: HTMLElement,
    title: string,
    detail: string,
    results: { image?: string; row?: number[] }[],
    caption: (k: number, n: number) => string,
    onClose: () => void,
  ): void {
    const close = h("button", { type: "button", class: "close", title: "Close" }, "×");
    close.addEventListener("click", onClose);
    // Collapsing keeps only the heading row, which gives the map back most of the strip's height.
    // A collapsed strip stays collapsed when new results replace its images.
    const collapse = h("button", { type: "button", class: "collapse", testid: "strip-collapse" });
    const showCollapsed = (collapsed: boolean) => {
      strip.classList.toggle("collapsed", collapsed);
      collapse.textContent = collapsed ? "▸" : "▾";
      collapse.title = collapsed ? "Show the images" : "Hide the images";
      collapse.setAttribute("aria-expanded", String(!collapsed));
    };
    showCollapsed(strip.classList.contains("collapsed"));
    collapse.addEventListener("click", () => showCollapsed(!strip.classList.contains("collapsed")));
    const images = h("div", { class: "strip-images" });
    results.forEach((result, k) => {
      const figure = decodedFigure(result, caption(k, results.length), "strip-image");
      if (strip === this.interpolationStrip && (k === 0 || k === results.length - 1)) figure.classList.add("end");
      images.append(figure);
    });
    strip.replaceChildren(
      h("div", { class: "strip-head" }, collapse, h("span", { class: "strip-title", testid: "strip-title" }, title), h("span", { class: "muted" }, detail), close),
      images,
    );
    strip.hidden = false;
  }
}

function walkResults(response: WalkResponse): { image?: string; row?: number[] }[] {
  if (response.images) return response.images.map((image) => ({ image }));
  return (response.rows ?? []).map((row) => ({ row }));
}

