// Markers drawn over the WebGL map on a 2D canvas: hovered and selected items, the
// interpolation path, prior samples, the decoded position and the lasso being drawn.
import type { PointRenderer } from "./renderer";

export interface OverlayMarks {
  /** Item under the cursor. */
  hover: number | null;
  /** Item shown in the side panel. */
  item: number | null;
  /** Nearest neighbours of that item. */
  neighbours: number[];
  /** Interpolation end points. */
  a: number | null;
  b: number | null;
  /** Interpolation path in projection coordinates. */
  path: number[][] | null;
  /** Prior samples placed on the map, in projection coordinates. */
  samples: number[][];
  /** Position last decoded by clicking empty space. */
  decoded: number[] | null;
  /** Box or lasso outline being drawn, in CSS pixels. */
  polygon: [number, number][] | null;
}

export function emptyMarks(): OverlayMarks {
  return { hover: null, item: null, neighbours: [], a: null, b: null, path: null, samples: [], decoded: null, polygon: null };
}

const ACCENT = "#2f6fdf";
const PATH = "#e4572e";
const SAMPLE = "#7b2cbf";

export class MapOverlay {
  readonly marks: OverlayMarks = emptyMarks();
  private readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;
  private queued = false;

  constructor(
    container: HTMLElement,
    private readonly renderer: PointRenderer,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "overlay";
    this.canvas.dataset.testid = "map-overlay";
    container.append(this.canvas);
    this.context = this.canvas.getContext("2d")!;
    renderer.onFrame(() => this.draw());
  }

  /**
   * Drop the marks held in one projection's coordinates or in screen pixels (hover, path, samples,
   * decoded position, outline), so none is drawn at a wrong place after the projection changes.
   * Marks of items (the shown item, neighbours, A and B) are kept and follow the new projection.
   */
  clearProjectionMarks(): void {
    Object.assign(this.marks, { hover: null, path: null, samples: [], decoded: null, polygon: null });
    this.update();
  }

  /** Redraw on the next animation frame after marks changed; the WebGL map is not redrawn. */
  update(): void {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.draw();
    });
  }

  private draw(): void {
    const ratio = window.devicePixelRatio || 1;
    const { clientWidth: width, clientHeight: height } = this.canvas;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
    }
    const ctx = this.context;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const m = this.marks;
    for (const i of m.neighbours) this.itemMark(i, 6, ACCENT, 1.5);
    this.drawPath(m.path);
    m.samples.forEach((p, k) => this.diamond(this.worldScreen(p), SAMPLE, `#${k + 1}`));
    if (m.decoded) this.cross(this.worldScreen(m.decoded), PATH);
    if (m.a !== null) this.tag(m.a, "A");
    if (m.b !== null) this.tag(m.b, "B");
    if (m.item !== null) this.itemMark(m.item, 9, ACCENT, 2.5);
    if (m.hover !== null) this.itemMark(m.hover, 8, "#1d2330", 1.5);
    this.drawPolygon(m.polygon);

    // Screen positions of the interpolation end points, for tests and debugging.
    this.canvas.dataset.a = m.a === null ? "" : JSON.stringify(this.itemScreen(m.a).map(Math.round));
    this.canvas.dataset.b = m.b === null ? "" : JSON.stringify(this.itemScreen(m.b).map(Math.round));
  }

  /** Ring around item `index`'s dot, or a square frame around its thumbnail when one is drawn. */
  private itemMark(index: number, radius: number, color: string, width: number): void {
    const center = this.itemScreen(index);
    if (this.renderer.isThumbnail(index)) this.frame(center, this.renderer.config.thumbnailSize / 2 + 2, color, width);
    else this.ring(center, radius, color, width);
  }

  private frame([x, y]: [number, number], half: number, color: string, width: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const ctx = this.context;
    ctx.lineWidth = width + 2;
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.strokeRect(x - half, y - half, 2 * half, 2 * half);
    ctx.lineWidth = width;
    ctx.strokeStyle = color;
    ctx.strokeRect(x - half, y - half, 2 * half, 2 * half);
  }

  private itemScreen(index: number): [number, number] {
    const d = this.renderer.dimensions;
    const c = this.renderer.coordinates;
    return this.renderer.worldToScreen(c[index * d], c[index * d + 1], d === 3 ? c[index * d + 2] : 0);
  }

  private worldScreen(p: number[]): [number, number] {
    return this.renderer.worldToScreen(p[0], p[1], p[2] ?? 0);
  }

  private ring([x, y]: [number, number], radius: number, color: string, width: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const ctx = this.context;
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, Math.PI * 2);
    ctx.lineWidth = width + 2;
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.stroke();
    ctx.lineWidth = width;
    ctx.strokeStyle = color;
    ctx.stroke();
  }

  private drawPath(path: number[][] | null): void {
    if (!path || path.length === 0) return;
    const ctx = this.context;
    const screen = path.map((p) => this.worldScreen(p)).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    ctx.beginPath();
    screen.forEach(([x, y], k) => (k === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.lineWidth = 4;
    ctx.strokeStyle = "rgba(255,255,255,0.85)";
    ctx.stroke();
    ctx.lineWidth = 2;
    ctx.strokeStyle = PATH;
    ctx.stroke();
    for (const [x, y] of screen) {
      ctx.beginPath();
      ctx.arc(x, y, 3.5, 0, Math.PI * 2);
      ctx.fillStyle = PATH;
      ctx.fill();
    }
  }

  private diamond([x, y]: [number, number], color: string, text: string): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const ctx = this.context;
    const r = 7;
    ctx.beginPath();
    ctx.moveTo(x, y - r);
    ctx.lineTo(x + r, y);
    ctx.lineTo(x, y + r);
    ctx.lineTo(x - r, y);
    ctx.closePath();
    ctx.fillStyle = color;
    ctx.fill();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
    this.label(text, x + r + 2, y - r + 2, color);
  }

  private label(text: string, x: number, y: number, color: string): void {
    const ctx = this.context;
    ctx.font = "bold 11px system-ui, sans-serif";
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#fff";
    ctx.strokeText(text, x, y);
    ctx.fillStyle = color;
    ctx.fillText(text, x, y);
  }

  private cross([x, y]: [number, number], color: string): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const ctx = this.context;
    const r = 8;
    ctx.beginPath();
    ctx.moveTo(x - r, y);
    ctx.lineTo(x + r, y);
    ctx.moveTo(x, y - r);
    ctx.lineTo(x, y + r);
    ctx.lineWidth = 4;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
    ctx.lineWidth = 2;
    ctx.strokeStyle = color;
    ctx.stroke();
  }

  private tag(index: number, text: string): void {
    const [x, y] = this.itemScreen(index);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const thumbnail = this.renderer.isThumbnail(index);
    const offset = thumbnail ? this.renderer.config.thumbnailSize / 2 + 4 : 10;
    this.itemMark(index, 8, PATH, 2.5);
    this.label(text, x + offset, y - offset + 2, PATH);
  }

  private drawPolygon(polygon: [number, number][] | null): void {
    if (!polygon || polygon.length < 2) return;
    const ctx = this.context;
    ctx.beginPath();
    polygon.forEach(([x, y], k) => (k === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.closePath();
    ctx.fillStyle = "rgba(47,111,223,0.08)";
    ctx.fill();
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = ACCENT;
    ctx.stroke();
    ctx.setLineDash([]);
  }
}
