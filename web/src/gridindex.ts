// Uniform grid over 2D points for picking and viewport queries without touching the GPU.

/** Average number of points per grid cell that the index aims for. */
const POINTS_PER_CELL = 4;

export class GridIndex {
  private readonly columns: number;
  private readonly rows: number;
  private readonly minX: number;
  private readonly minY: number;
  private readonly cellWidth: number;
  private readonly cellHeight: number;
  /** Start of each cell's run in `order`; cell c contains order[cellStart[c] .. cellStart[c + 1]). */
  private readonly cellStart: Uint32Array;
  /** Point indices sorted by cell. */
  private readonly order: Uint32Array;

  /** Index `positions` (x, y pairs) whose extent is `bounds` ([[xmin, ymin], [xmax, ymax]]). */
  constructor(
    private readonly positions: Float32Array,
    bounds: [number[], number[]],
  ) {
    const n = positions.length / 2;
    const [min, max] = bounds;
    const width = Math.max(max[0] - min[0], 1e-12);
    const height = Math.max(max[1] - min[1], 1e-12);
    const cells = Math.max(1, Math.ceil(n / POINTS_PER_CELL));
    this.columns = Math.max(1, Math.round(Math.sqrt((cells * width) / height)));
    this.rows = Math.max(1, Math.ceil(cells / this.columns));
    this.minX = min[0];
    this.minY = min[1];
    this.cellWidth = width / this.columns;
    this.cellHeight = height / this.rows;

    // Counting sort of the points by cell.
    const cellOf = new Uint32Array(n);
    const counts = new Uint32Array(this.columns * this.rows + 1);
    for (let i = 0; i < n; i++) {
      cellOf[i] = this.cell(this.column(positions[2 * i]), this.row(positions[2 * i + 1]));
      counts[cellOf[i] + 1]++;
    }
    for (let c = 1; c < counts.length; c++) counts[c] += counts[c - 1];
    this.cellStart = counts.slice();
    this.order = new Uint32Array(n);
    const next = counts.slice(0, -1);
    for (let i = 0; i < n; i++) this.order[next[cellOf[i]]++] = i;
  }

  /**
   * Index of the point nearest to (x, y) within `radius`, skipping points for which `skip`
   * returns true; null when there is none.
   */
  nearest(x: number, y: number, radius: number, skip: (index: number) => boolean): number | null {
    let best: number | null = null;
    let bestDistance = radius * radius;
    this.forEachInRect(x - radius, y - radius, x + radius, y + radius, (i) => {
      const dx = this.positions[2 * i] - x;
      const dy = this.positions[2 * i + 1] - y;
      const d = dx * dx + dy * dy;
      if (d <= bestDistance && !skip(i)) {
        bestDistance = d;
        best = i;
      }
      return true;
    });
    return best;
  }

  /**
   * Call `visit` for every point inside the rectangle, in no particular order, until it
   * returns false.
   */
  forEachInRect(x0: number, y0: number, x1: number, y1: number, visit: (index: number) => boolean): void {
    const c0 = this.column(x0);
    const c1 = this.column(x1);
    const r0 = this.row(y0);
    const r1 = this.row(y1);
    for (let row = r0; row <= r1; row++) {
      for (let column = c0; column <= c1; column++) {
        const cell = this.cell(column, row);
        for (let k = this.cellStart[cell]; k < this.cellStart[cell + 1]; k++) {
          const i = this.order[k];
          const px = this.positions[2 * i];
          const py = this.positions[2 * i + 1];
          if (px < x0 || px > x1 || py < y0 || py > y1) continue;
          if (!visit(i)) return;
        }
      }
    }
  }

  // Points outside the bounds (or NaN) fall into the border cells, so no point is lost.
  private column(x: number): number {
    const c = Math.floor((x - this.minX) / this.cellWidth);
    return c >= 0 ? Math.min(c, this.columns - 1) : 0;
  }

  private row(y: number): number {
    const r = Math.floor((y - this.minY) / this.cellHeight);
    return r >= 0 ? Math.min(r, this.rows - 1) : 0;
  }

  private cell(column: number, row: number): number {
    return row * this.columns + column;
  }
}
