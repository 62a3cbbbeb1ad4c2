// Walks that need the decoder: interpolation between two items, prior samples and decoding a
// clicked position. Results appear as strips under the map and as markers on it.
import { decodePosition, interpolate, sample } from "./api";
import type { ExplorerContext } from "./context";
import { decodedFigure, formatNumber, h } from "./dom";
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

  constructor(
    private readonly ctx: ExplorerContext,
    private readonly panel: HTMLElement,
    private readonly interpolationStrip: HTMLElement,
    private readonly sampleStrip: HTMLElement,
    private readonly decodedPanel: HTMLElement,
  ) {
    this.renderPanel();
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
    const maxSteps = this.ctx.space.limits.max_steps ?? 64;
    const method = h("select", { testid: "walk-method" }, h("option", { value: "lerp" }, "lerp (straight line)"), h("option", { value: "slerp" }, "slerp (great circle)"));
    method.value = this.method;
    method.addEventListener("change", () => {
      this.method = method.value as InterpolationMethod;
      if (this.a !== null && this.b !== null) void this.run();
    });
    const steps = h("input", { type: "number", min: 2, max: maxSteps, value: this.steps, testid: "walk-steps" });
    steps.addEventListener("change", () => {
      const value = Math.round(Number(steps.value));
      if (!Number.isFinite(value) || value < 2 || value > maxSteps) {
        this.ctx.setStatus(`steps must be an integer from 2 to ${maxSteps}; got ${steps.value}`, true);
        return;
      }
      this.steps = value;
      if (this.a !== null && this.b !== null) void this.run();
    });
    const run = h("button", { type: "button", class: "primary", testid: "walk-run", disabled: this.a === null || this.b === null }, "Interpolate");
    run.addEventListener("click", () => void this.run());
    const clear = h("button", { type: "button", testid: "walk-clear" }, "Clear");
    clear.addEventListener("click", () => this.clearPath());

    const end = (index: number | null, testid: string) =>
      h("span", { testid }, index === null ? "not set" : `${this.ctx.idOf(index)} (${this.ctx.labelText(index)})`);
    this.panel.replaceChildren(
      h("h2", {}, "Interpolation"),
      h("p", { class: "muted" }, "Click an item, then shift-click a second one; or use Set as A / B."),
      h("div", { class: "walk-grid" },
        h("span", { class: "muted" }, "A"), end(this.a, "walk-a"),
        h("span", { class: "muted" }, "B"), end(this.b, "walk-b"),
        h("span", { class: "muted" }, "method"), method,
        h("span", { class: "muted" }, "steps"), steps,
      ),
      h("div", { class: "row-buttons", style: "margin-top: 8px" }, run, clear),
    );
  }

  /** Decode the path from A to B and draw it on the map and in the strip. */
  async run(): Promise<void> {
    if (this.a === null || this.b === null) return;
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

  /** Re-request the path and samples on a new projection; the decoded marker is dropped. */
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
    const images = h("div", { class: "strip-images" });
    results.forEach((result, k) => {
      const figure = decodedFigure(result, caption(k, results.length), "strip-image");
      if (strip === this.interpolationStrip && (k === 0 || k === results.length - 1)) figure.classList.add("end");
      images.append(figure);
    });
    strip.replaceChildren(
      h("div", { class: "strip-head" }, h("span", { class: "strip-title", testid: "strip-title" }, title), h("span", { class: "muted" }, detail), close),
      images,
    );
    strip.hidden = false;
  }
}

function walkResults(response: WalkResponse): { image?: string; row?: number[] }[] {
  if (response.images) return response.images.map((image) => ({ image }));
  return (response.rows ?? []).map((row) => ({ row }));
}

