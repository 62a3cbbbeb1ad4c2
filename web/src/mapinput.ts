// Pointer input on the map: hover, click, 2D pan and zoom, and box or lasso selection.
import type { PointRenderer } from "./renderer";

export type DragMode = "pan" | "box" | "lasso";

export interface MapInputHandlers {
  /** Pointer moved over item `index` (null: over no item) at (x, y) CSS pixels in the map. */
  hover(index: number | null, x: number, y: number): void;
  /** Click without a drag on an item or on empty space. */
  click(index: number | null, x: number, y: number, shiftKey: boolean): void;
  /** Outline being drawn (null when the drag ends). */
  outline(polygon: [number, number][] | null): void;
  /** Box or lasso finished; `add` when shift was held. */
  select(polygon: [number, number][], add: boolean): void;
}

/** Movement in CSS pixels below which a press and release counts as a click. */
const CLICK_SLOP = 4;

export class MapInput {
  private mode: DragMode = "pan";
  private start: { x: number; y: number; shift: boolean } | null = null;
  private last = { x: 0, y: 0 };
  private dragged = false;
  private polygon: [number, number][] = [];
  private hoverQueued = false;

  constructor(
    private readonly element: HTMLElement,
    private readonly renderer: PointRenderer,
    private readonly handlers: MapInputHandlers,
  ) {
    element.addEventListener("pointerdown", (e) => this.down(e));
    element.addEventListener("pointermove", (e) => this.move(e));
    element.addEventListener("pointerup", (e) => this.up(e));
    element.addEventListener("pointerleave", () => handlers.hover(null, 0, 0));
    element.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
  }

  setMode(mode: DragMode): void {
    this.mode = mode;
    this.element.classList.toggle("mode-box", mode === "box");
    this.element.classList.toggle("mode-lasso", mode === "lasso");
    this.renderer.setOrbitEnabled(mode === "pan");
  }

  private local(e: PointerEvent | WheelEvent): { x: number; y: number } {
    const rect = this.element.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  }

  private down(e: PointerEvent): void {
    if (e.button !== 0) return;
    const p = this.local(e);
    this.start = { ...p, shift: e.shiftKey };
    this.last = p;
    this.dragged = false;
    this.polygon = [[p.x, p.y]];
    // In 3D pan mode OrbitControls owns the pointer capture on the canvas, and taking it here would stop the orbit.
    if (this.renderer.dimensions === 2 || this.mode !== "pan") this.element.setPointerCapture(e.pointerId);
  }

  private move(e: PointerEvent): void {
    const p = this.local(e);
    if (!this.start) {
      this.queueHover(p.x, p.y);
      return;
    }
    if (!this.dragged && Math.hypot(p.x - this.start.x, p.y - this.start.y) > CLICK_SLOP) {
      this.dragged = true;
      // The map moves under the cursor during a drag, so the hovered item would go stale.
      this.handlers.hover(null, 0, 0);
    }
    if (!this.dragged) return;

    if (this.mode === "pan") {
      // 3D orbiting is handled by OrbitControls; panBy ignores 3D maps.
      this.renderer.panBy(p.x - this.last.x, p.y - this.last.y);
    } else if (this.mode === "box") {
      const s = this.start;
      this.polygon = [[s.x, s.y], [p.x, s.y], [p.x, p.y], [s.x, p.y]];
      this.handlers.outline(this.polygon);
    } else {
      this.polygon.push([p.x, p.y]);
      this.handlers.outline(this.polygon);
    }
    this.last = p;
  }

  private up(e: PointerEvent): void {
    const start = this.start;
    this.start = null;
    if (!start) return;
    if (this.element.hasPointerCapture(e.pointerId)) this.element.releasePointerCapture(e.pointerId);
    const p = this.local(e);

    if (!this.dragged) {
      this.handlers.click(this.renderer.pick(p.x, p.y), p.x, p.y, e.shiftKey);
      return;
    }
    if (this.mode !== "pan") {
      this.handlers.outline(null);
      this.handlers.select(this.polygon, start.shift);
    }
    this.queueHover(p.x, p.y);
  }

  private wheel(e: WheelEvent): void {
    if (this.renderer.dimensions !== 2) return;
    e.preventDefault();
    const p = this.local(e);
    // deltaMode 1 reports lines rather than pixels; about 16 pixels per line.
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    this.renderer.zoomAt(Math.exp(-delta * 0.0015), p.x, p.y);
  }

  /** Pick at most once per animation frame, for the latest pointer position. */
  private queueHover(x: number, y: number): void {
    this.last = { x, y };
    if (this.hoverQueued) return;
    this.hoverQueued = true;
    requestAnimationFrame(() => {
      this.hoverQueued = false;
      const { x: hx, y: hy } = this.last;
      this.handlers.hover(this.renderer.pick(hx, hy), hx, hy);
    });
  }
}
