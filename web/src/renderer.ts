// WebGL renderer of the map: owns the GL context, the cameras, the point buffers and picking.
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

import { GridIndex } from "./gridindex";
import pointsFrag from "./shaders/points.frag?raw";
import pointsVert from "./shaders/points.vert?raw";
import { ThumbnailLayer, type ThumbnailSource } from "./thumbnails";

export interface RendererConfig {
  /** Point diameter in CSS pixels; 0 picks one from the point count. */
  pointSize: number;
  /** Opacity of undimmed points, 0..1; 0 picks one from the point count. */
  opacity: number;
  /** Largest diameter in CSS pixels that zooming in grows points to (2D). */
  maxZoomedPointSize: number;
  /** Minimum point diameter in CSS pixels used when picking, so small points stay easy to hover. */
  pickSize: number;
  /** Half side in CSS pixels of the square around the cursor searched when picking. */
  pickRadius: number;
  /** Clear colour of the map. */
  background: string;
  /** Side of a thumbnail on the map in CSS pixels; hovering and clicking use the same square. */
  thumbnailSize: number;
  /** Thumbnails replace dots when at most this many points are in view (2D only). */
  maxThumbnails: number;
}

export const DEFAULT_RENDERER_CONFIG: RendererConfig = {
  pointSize: 0,
  opacity: 0,
  maxZoomedPointSize: 10,
  pickSize: 8,
  pickRadius: 6,
  background: "#fbfbfc",
  thumbnailSize: 40,
  maxThumbnails: 400,
};

/** Camera state of a 2D map: center in projection units, zoom relative to the fitted view. */
export interface View2D {
  kind: "2d";
  center: [number, number];
  zoom: number;
}

/** Camera state of a 3D map: camera position and orbit target in projection units. */
export interface View3D {
  kind: "3d";
  position: [number, number, number];
  target: [number, number, number];
}

export type View = View2D | View3D;

/** Per-point state flags, matching the bits read by points.vert. */
export const STATE_HIDDEN = 1;
export const STATE_SELECTED = 2;
export const STATE_MATCHED = 4;

export class PointRenderer {
  readonly canvas: HTMLCanvasElement;
  readonly config: RendererConfig;

  private readonly gl: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly pickScene = new THREE.Scene();
  private readonly camera2d = new THREE.OrthographicCamera(-1, 1, 1, -1, 0.1, 100);
  private readonly camera3d = new THREE.PerspectiveCamera(45, 1, 0.01, 1000);
  private readonly material: THREE.RawShaderMaterial;
  private readonly pickMaterial: THREE.RawShaderMaterial;
  private readonly pickTarget: THREE.WebGLRenderTarget;
  private readonly pickPixels: Uint8Array;
  private readonly thumbnails: ThumbnailLayer;
  private controls: OrbitControls | null = null;
  private geometry: THREE.BufferGeometry | null = null;
  private points: THREE.Points | null = null;
  private pickPoints: THREE.Points | null = null;
  private colorAttribute: THREE.BufferAttribute | null = null;
  private stateAttribute: THREE.BufferAttribute | null = null;
  private positions: Float32Array = new Float32Array(0);
  private grid: GridIndex | null = null;
  private basePointSize = 4;
  private pointSizeCss = 4;
  private dims: 2 | 3 = 2;
  private bounds: [number[], number[]] = [[-1, -1, -1], [1, 1, 1]];
  private fitZoom = 1;
  private width = 1;
  private height = 1;
  private frameQueued = false;
  private thumbnailsStale = true;
  private thumbnailSet = new Set<number>();
  private readonly viewListeners = new Set<() => void>();
  private readonly frameListeners = new Set<() => void>();

  constructor(
    private readonly container: HTMLElement,
    config: Partial<RendererConfig> = {},
  ) {
    this.config = { ...DEFAULT_RENDERER_CONFIG, ...config };
    this.canvas = document.createElement("canvas");
    this.canvas.dataset.testid = "map-canvas";
    container.append(this.canvas);

    this.gl = new THREE.WebGLRenderer({ canvas: this.canvas, antialias: false, powerPreference: "high-performance" });
    this.gl.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.gl.setClearColor(this.config.background, 1);

    const uniforms = () => ({
      uPointSize: { value: 4 },
      uOpacity: { value: 1 },
      uHasSelection: { value: 0 },
      uHasHighlight: { value: 0 },
      uFlat: { value: 1 },
    });
    this.material = new THREE.RawShaderMaterial({
      glslVersion: THREE.GLSL3,
      vertexShader: pointsVert,
      fragmentShader: pointsFrag,
      uniforms: uniforms(),
      transparent: true,
    });
    this.pickMaterial = new THREE.RawShaderMaterial({
      glslVersion: THREE.GLSL3,
      vertexShader: pointsVert,
      fragmentShader: pointsFrag,
      uniforms: uniforms(),
      defines: { PICK: 1 },
      blending: THREE.NoBlending,
    });

    const side = 2 * this.config.pickRadius + 1;
    this.pickTarget = new THREE.WebGLRenderTarget(side, side, { depthBuffer: true });
    this.pickPixels = new Uint8Array(side * side * 4);
    this.thumbnails = new ThumbnailLayer(this.scene, () => this.markThumbnailsStale());

    new ResizeObserver(() => this.resize(container)).observe(container);
    this.resize(container);
  }

  /** Number of coordinates per point of the current projection. */
  get dimensions(): 2 | 3 {
    return this.dims;
  }

  /** Number of points uploaded. */
  get count(): number {
    return this.positions.length / this.dims;
  }

  /** The coordinates uploaded by setPoints, flat (n * dims). */
  get coordinates(): Float32Array {
    return this.positions;
  }

  /** Register a callback run after the camera moves. */
  onViewChange(listener: () => void): void {
    this.viewListeners.add(listener);
  }

  /** Register a callback run after each frame is drawn (for overlays). */
  onFrame(listener: () => void): void {
    this.frameListeners.add(listener);
  }

  /**
   * Upload the coordinates of a projection. Colour and state buffers are kept when the
   * point count is unchanged, so switching projection costs one upload of positions.
   */
  setPoints(positions: Float32Array, dims: 2 | 3, bounds: [number[], number[]]): void {
    const count = positions.length / dims;
    const keep = this.colorAttribute !== null && this.colorAttribute.count === count;
    this.positions = positions;
    this.dims = dims;
    this.bounds = bounds;
    this.grid = null;

    this.geometry?.dispose();
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute("position", new THREE.BufferAttribute(positions, dims));
    if (!keep) {
      this.colorAttribute = new THREE.Uint8BufferAttribute(new Uint8Array(count * 4).fill(128), 4, true);
      this.stateAttribute = new THREE.Uint8BufferAttribute(new Uint8Array(count), 1, false);
    }
    geometry.setAttribute("color", this.colorAttribute!);
    geometry.setAttribute("state", this.stateAttribute!);
    // three.js reads x, y and z to compute the sphere, which fails for 2D positions; the bounds give it directly.
    geometry.boundingSphere = sphereFromBounds(bounds);
    this.geometry = geometry;

    if (this.points) this.scene.remove(this.points);
    if (this.pickPoints) this.pickScene.remove(this.pickPoints);
    this.points = new THREE.Points(geometry, this.material);
    this.pickPoints = new THREE.Points(geometry, this.pickMaterial);
    for (const object of [this.points, this.pickPoints]) object.frustumCulled = false;
    this.scene.add(this.points);
    this.pickScene.add(this.pickPoints);

    const flat = dims === 2 ? 1 : 0;
    this.material.uniforms.uFlat.value = flat;
    this.pickMaterial.uniforms.uFlat.value = flat;
    this.setupCamera();
    this.applySizes();
    this.thumbnailsStale = true;
    this.fitView();
  }

  /** Replace the per-point colours: 4 bytes (RGBA) per point. */
  setColors(rgba: Uint8Array): void {
    if (!this.colorAttribute) return;
    (this.colorAttribute.array as Uint8Array).set(rgba);
    this.colorAttribute.needsUpdate = true;
    this.markThumbnailsStale();
  }

  /** Replace the per-point state flags (STATE_* bits), one byte per point. */
  setState(flags: Uint8Array, hasSelection: boolean, hasMatches: boolean): void {
    if (!this.stateAttribute) return;
    (this.stateAttribute.array as Uint8Array).set(flags);
    this.stateAttribute.needsUpdate = true;
    for (const material of [this.material, this.pickMaterial]) {
      material.uniforms.uHasSelection.value = hasSelection ? 1 : 0;
      material.uniforms.uHasHighlight.value = hasMatches ? 1 : 0;
    }
    this.markThumbnailsStale();
  }

  /** Per-point state flags as last set. */
  get state(): Uint8Array {
    return (this.stateAttribute?.array as Uint8Array) ?? new Uint8Array(0);
  }

  /** Per-point RGBA colours as last set. */
  get colors(): Uint8Array {
    return (this.colorAttribute?.array as Uint8Array) ?? new Uint8Array(0);
  }

  /** Use sprite atlases for thumbnails at close zoom; null turns thumbnails off. */
  setThumbnailSource(source: ThumbnailSource | null): void {
    this.thumbnails.setSource(source);
    this.markThumbnailsStale();
  }

  /** Whether thumbnails are drawn in place of dots in the current view. */
  get showingThumbnails(): boolean {
    return this.thumbnails.drawn.length > 0;
  }

  /** Return whether item `index` is drawn as a thumbnail rather than a dot. */
  isThumbnail(index: number): boolean {
    return this.thumbnailSet.has(index);
  }

  /** Draw a frame on the next animation frame (frames are drawn only when something changed). */
  requestFrame(): void {
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => {
      this.frameQueued = false;
      this.draw();
    });
  }

  private markThumbnailsStale(): void {
    this.thumbnailsStale = true;
    this.requestFrame();
  }

  private draw(): void {
    if (this.thumbnailsStale) {
      // Thumbnails replace dots in 2D once few enough points are in view.
      const enabled = this.dims === 2 && this.thumbnails.enabled;
      const visible = enabled ? this.visibleIndices(this.config.maxThumbnails) : null;
      this.thumbnails.update(visible, this.positions, this.colors, this.thumbnailPixels());
      this.thumbnailSet = new Set(this.thumbnails.drawn);
      this.thumbnailsStale = false;
    }
    this.gl.setRenderTarget(null);
    this.gl.render(this.scene, this.camera);
    for (const listener of this.frameListeners) listener();
  }

  private get camera(): THREE.Camera {
    return this.dims === 2 ? this.camera2d : this.camera3d;
  }

  private resize(container: HTMLElement): void {
    const width = Math.max(1, container.clientWidth);
    const height = Math.max(1, container.clientHeight);
    if (width === this.width && height === this.height) return;
    this.width = width;
    this.height = height;
    this.gl.setSize(this.width, this.height, true);
    this.updateCameraFrustum();
    this.requestFrame();
  }

  /**
   * Fit the cameras to the map's new size. A 2D view keeps its zoom relative to the fitted
   * view, so the same region stays in view when a panel beside or under the map opens.
   */
  private updateCameraFrustum(): void {
    const relativeZoom = this.camera2d.zoom / this.fitZoom;
    const c = this.camera2d;
    c.left = -this.width / 2;
    c.right = this.width / 2;
    c.top = this.height / 2;
    c.bottom = -this.height / 2;
    c.updateProjectionMatrix();
    this.camera3d.aspect = this.width / this.height;
    this.camera3d.updateProjectionMatrix();
    if (this.positions.length === 0) return;
    this.computeFitZoom();
    if (this.dims === 2) {
      c.zoom = relativeZoom * this.fitZoom;
      c.updateProjectionMatrix();
      this.viewChanged();
    }
  }

  private computeFitZoom(): void {
    const [min, max] = this.bounds;
    const spanX = Math.max(max[0] - min[0], 1e-9);
    const spanY = Math.max(max[1] - min[1], 1e-9);
    this.fitZoom = 0.9 * Math.min(this.width / spanX, this.height / spanY);
  }

  private setupCamera(): void {
    this.controls?.dispose();
    this.controls = null;
    if (this.dims === 3) {
      this.controls = new OrbitControls(this.camera3d, this.canvas);
      this.controls.addEventListener("change", () => this.viewChanged());
    }
    this.computeFitZoom();
  }

  /** Point sizes from the config, or from the point count when the config leaves them at 0. */
  private applySizes(): void {
    const n = this.count;
    this.basePointSize = this.config.pointSize > 0 ? this.config.pointSize : autoPointSize(n);
    let opacity = this.config.opacity;
    if (opacity <= 0) opacity = n > 100000 ? 0.6 : 0.9;
    this.material.uniforms.uOpacity.value = opacity;
    this.applyZoomedSize();
  }

  /**
   * Grow 2D points with the square root of the zoom, so that sparse regions stay visible
   * when zoomed in, up to maxZoomedPointSize (or the base size when that is larger).
   */
  private applyZoomedSize(): void {
    const base = this.basePointSize;
    const zoom = this.dims === 2 ? Math.max(1, this.camera2d.zoom / this.fitZoom) : 1;
    const size = Math.min(base * Math.sqrt(zoom), Math.max(base, this.config.maxZoomedPointSize));
    this.pointSizeCss = size;
    this.material.uniforms.uPointSize.value = size * this.gl.getPixelRatio();
    this.pickMaterial.uniforms.uPointSize.value = Math.max(size, this.config.pickSize);
  }

  private thumbnailPixels(): number {
    return this.config.thumbnailSize * this.gl.getPixelRatio();
  }

  private viewChanged(): void {
    this.applyZoomedSize();
    this.markThumbnailsStale();
    for (const listener of this.viewListeners) listener();
  }

  /** Show the whole projection. */
  fitView(): void {
    const [min, max] = this.bounds;
    const center = [0, 1, 2].map((i) => ((min[i] ?? 0) + (max[i] ?? 0)) / 2);
    if (this.dims === 2) {
      this.setView({ kind: "2d", center: [center[0], center[1]], zoom: 1 });
      return;
    }
    const radius = Math.max(...[0, 1, 2].map((i) => (max[i] ?? 0) - (min[i] ?? 0))) || 1;
    const position: [number, number, number] = [center[0], center[1], center[2] + radius * 1.9];
    this.setView({ kind: "3d", position, target: [center[0], center[1], center[2]] });
  }

  /** Current camera state; zoom in 2D is relative to the fitted view. */
  getView(): View {
    if (this.dims === 2) {
      const p = this.camera2d.position;
      return { kind: "2d", center: [p.x, p.y], zoom: this.camera2d.zoom / this.fitZoom };
    }
    const p = this.camera3d.position;
    const t = this.controls?.target ?? new THREE.Vector3();
    return { kind: "3d", position: [p.x, p.y, p.z], target: [t.x, t.y, t.z] };
  }

  /** Move the camera; a view of the other dimensionality is ignored. */
  setView(view: View): void {
    if (view.kind === "2d" && this.dims === 2) {
      this.camera2d.position.set(view.center[0], view.center[1], 10);
      this.camera2d.zoom = Math.max(1e-6, view.zoom * this.fitZoom);
      this.camera2d.updateProjectionMatrix();
    } else if (view.kind === "3d" && this.dims === 3 && this.controls) {
      const radius = Math.hypot(...[0, 1, 2].map((i) => view.position[i] - view.target[i])) || 1;
      this.camera3d.near = radius / 1000;
      this.camera3d.far = radius * 100;
      this.camera3d.position.set(...view.position);
      this.controls.target.set(...view.target);
      this.camera3d.updateProjectionMatrix();
      this.controls.update();
    } else {
      return;
    }
    this.viewChanged();
  }

  /** Pan the 2D map by a screen offset in CSS pixels. */
  panBy(dx: number, dy: number): void {
    if (this.dims !== 2) return;
    const c = this.camera2d;
    c.position.x -= dx / c.zoom;
    c.position.y += dy / c.zoom;
    this.viewChanged();
  }

  /** Zoom the 2D map by `factor`, keeping the point under (x, y) CSS pixels fixed. */
  zoomAt(factor: number, x: number, y: number): void {
    if (this.dims !== 2) return;
    const c = this.camera2d;
    const before = this.screenToWorld(x, y);
    c.zoom = Math.min(Math.max(c.zoom * factor, this.fitZoom * 0.05), this.fitZoom * 20000);
    c.updateProjectionMatrix();
    const after = this.screenToWorld(x, y);
    c.position.x += before[0] - after[0];
    c.position.y += before[1] - after[1];
    this.viewChanged();
  }

  /**
   * Pan, and zoom out if needed, so that every 2D position in `points` lies at least `margin`
   * CSS pixels inside the map. The view is left alone when they already do. 3D maps are not moved.
   */
  ensureVisible(points: number[][], margin: number): void {
    // The map may have been resized by a layout change that the ResizeObserver has not reported yet.
    this.resize(this.container);
    if (this.dims !== 2 || points.length === 0) return;
    const c = this.camera2d;
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    if (![minX, maxX, minY, maxY].every(Number.isFinite)) return;

    const room = { x: Math.max(1, this.width - 2 * margin), y: Math.max(1, this.height - 2 * margin) };
    if ((maxX - minX) * c.zoom > room.x || (maxY - minY) * c.zoom > room.y) {
      // Zoom out until the points fit, centred between them.
      const zoom = Math.min(room.x / Math.max(maxX - minX, 1e-12), room.y / Math.max(maxY - minY, 1e-12));
      this.setView({ kind: "2d", center: [(minX + maxX) / 2, (minY + maxY) / 2], zoom: zoom / this.fitZoom });
      return;
    }
    // Pan by the least amount that brings the points inside the margins.
    const halfX = room.x / 2 / c.zoom;
    const halfY = room.y / 2 / c.zoom;
    const shiftX = Math.max(0, maxX - (c.position.x + halfX)) - Math.max(0, c.position.x - halfX - minX);
    const shiftY = Math.max(0, maxY - (c.position.y + halfY)) - Math.max(0, c.position.y - halfY - minY);
    if (shiftX === 0 && shiftY === 0) return;
    this.setView({ kind: "2d", center: [c.position.x + shiftX, c.position.y + shiftY], zoom: c.zoom / this.fitZoom });
  }

  /** Let OrbitControls handle pointer input (3D) or not, for example while lassoing. */
  setOrbitEnabled(enabled: boolean): void {
    if (this.controls) this.controls.enabled = enabled;
  }

  /** Screen position in CSS pixels of a point in projection coordinates; NaN when it is behind the 3D camera. */
  worldToScreen(x: number, y: number, z = 0): [number, number] {
    const v = new THREE.Vector3(x, y, this.dims === 2 ? 0 : z).project(this.camera);
    if (this.dims === 3 && v.z > 1) return [NaN, NaN];
    return [((v.x + 1) / 2) * this.width, ((1 - v.y) / 2) * this.height];
  }

  /**
   * Projection coordinates under a screen position in CSS pixels. In 3D the ray is cut by the
   * plane through the orbit target that faces the camera.
   */
  screenToWorld(x: number, y: number): number[] {
    const ndc = new THREE.Vector2((x / this.width) * 2 - 1, 1 - (y / this.height) * 2);
    if (this.dims === 2) {
      const v = new THREE.Vector3(ndc.x, ndc.y, 0).unproject(this.camera2d);
      return [v.x, v.y];
    }
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(ndc, this.camera3d);
    const target = this.controls?.target ?? new THREE.Vector3();
    const normal = this.camera3d.getWorldDirection(new THREE.Vector3());
    const plane = new THREE.Plane().setFromNormalAndCoplanarPoint(normal, target);
    const hit = raycaster.ray.intersectPlane(plane, new THREE.Vector3()) ?? target.clone();
    return [hit.x, hit.y, hit.z];
  }

  /** Grid over the 2D positions, built on first use so that it does not delay the first frame. */
  private get grid2d(): GridIndex {
    this.grid ??= new GridIndex(this.positions, this.bounds);
    return this.grid;
  }

  /**
   * Index of the item under (x, y) CSS pixels, or null: the thumbnail whose square contains
   * the position, else the visible point nearest to it within pickRadius.
   */
  pick(x: number, y: number): number | null {
    if (this.count === 0) return null;
    if (this.dims === 2) {
      const [wx, wy] = this.screenToWorld(x, y);
      const thumbnail = this.pickThumbnail(wx, wy);
      if (thumbnail !== null) return thumbnail;
      const radius = Math.max(this.config.pickRadius, this.pointSizeCss / 2 + 1) / this.camera2d.zoom;
      const state = this.state;
      return this.grid2d.nearest(wx, wy, radius, (i) => (state[i] & STATE_HIDDEN) !== 0);
    }
    return this.pickOnGpu(x, y);
  }

  /**
   * Thumbnail whose square contains the world position (wx, wy), or null. Where thumbnails
   * overlap, the one whose centre is nearest wins.
   */
  private pickThumbnail(wx: number, wy: number): number | null {
    const half = this.config.thumbnailSize / 2 / this.camera2d.zoom;
    let best: number | null = null;
    let bestDistance = Infinity;
    for (const i of this.thumbnails.drawn) {
      const dx = Math.abs(this.positions[2 * i] - wx);
      const dy = Math.abs(this.positions[2 * i + 1] - wy);
      if (dx > half || dy > half) continue;
      const distance = dx * dx + dy * dy;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = i;
      }
    }
    return best;
  }

  /** Pick in 3D by drawing point indices as colours into a small target around the cursor. */
  private pickOnGpu(x: number, y: number): number | null {
    if (!this.pickPoints) return null;
    const r = this.config.pickRadius;
    const side = 2 * r + 1;
    const camera = this.camera3d;

    // Render only the small square around the cursor, one target pixel per CSS pixel.
    camera.setViewOffset(this.width, this.height, Math.round(x) - r, Math.round(y) - r, side, side);
    const clear = this.gl.getClearColor(new THREE.Color());
    const alpha = this.gl.getClearAlpha();
    this.gl.setClearColor(0x000000, 0);
    this.gl.setRenderTarget(this.pickTarget);
    this.gl.clear();
    this.gl.render(this.pickScene, camera);
    this.gl.readRenderTargetPixels(this.pickTarget, 0, 0, side, side, this.pickPixels);
    this.gl.setRenderTarget(null);
    this.gl.setClearColor(clear, alpha);
    camera.clearViewOffset();

    // The nearest encoded index to the centre wins.
    let best: number | null = null;
    let bestDistance = Infinity;
    for (let row = 0; row < side; row++) {
      for (let col = 0; col < side; col++) {
        const o = (row * side + col) * 4;
        const id = this.pickPixels[o] | (this.pickPixels[o + 1] << 8) | (this.pickPixels[o + 2] << 16);
        if (id === 0) continue;
        const d = (row - r) ** 2 + (col - r) ** 2;
        if (d < bestDistance) {
          bestDistance = d;
          best = id - 1;
        }
      }
    }
    return best !== null && best < this.count ? best : null;
  }

  /** Indices of the unhidden points whose screen position lies inside a polygon (CSS pixels). */
  indicesInPolygon(polygon: [number, number][]): number[] {
    if (polygon.length < 3) return [];
    const camera = this.camera;
    camera.updateMatrixWorld();
    const m = new THREE.Matrix4().multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse).elements;
    const xs = polygon.map((p) => p[0]);
    const ys = polygon.map((p) => p[1]);
    const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const state = this.state;
    const out: number[] = [];
    const d = this.dims;
    for (let i = 0; i < this.count; i++) {
      if (state[i] & STATE_HIDDEN) continue;
      const px = this.positions[i * d];
      const py = this.positions[i * d + 1];
      const pz = d === 3 ? this.positions[i * d + 2] : 0;
      // Column-major 4x4 matrix times (px, py, pz, 1), then the perspective divide.
      const w = m[3] * px + m[7] * py + m[11] * pz + m[15];
      const sx = (((m[0] * px + m[4] * py + m[8] * pz + m[12]) / w + 1) / 2) * this.width;
      const sy = ((1 - (m[1] * px + m[5] * py + m[9] * pz + m[13]) / w) / 2) * this.height;
      if (w <= 0 || sx < minX || sx > maxX || sy < minY || sy > maxY) continue;
      if (insidePolygon(sx, sy, polygon)) out.push(i);
    }
    return out;
  }

  /** Unhidden points inside the 2D view, or null when there are more than `limit`. */
  private visibleIndices(limit: number): number[] | null {
    const c = this.camera2d;
    const halfW = this.width / 2 / c.zoom;
    const halfH = this.height / 2 / c.zoom;
    const [x0, x1, y0, y1] = [c.position.x - halfW, c.position.x + halfW, c.position.y - halfH, c.position.y + halfH];
    const state = this.state;
    const out: number[] = [];
    let tooMany = false;
    this.grid2d.forEachInRect(x0, y0, x1, y1, (i) => {
      if (state[i] & STATE_HIDDEN) return true;
      out.push(i);
      tooMany = out.length > limit;
      return !tooMany;
    });
    return tooMany ? null : out;
  }
}

/** Point diameter in CSS pixels for `n` points: smaller as the map gets denser. */
function autoPointSize(n: number): number {
  if (n > 500000) return 1.5;
  if (n > 100000) return 2.5;
  if (n > 20000) return 3.5;
  if (n > 3000) return 5;
  return 7;
}

/** Sphere around an axis-aligned box given as [[min...], [max...]] with 2 or 3 axes. */
export function sphereFromBounds([min, max]: [number[], number[]]): THREE.Sphere {
  const low = new THREE.Vector3(min[0] ?? 0, min[1] ?? 0, min[2] ?? 0);
  const high = new THREE.Vector3(max[0] ?? 0, max[1] ?? 0, max[2] ?? 0);
  return new THREE.Box3(low, high).getBoundingSphere(new THREE.Sphere());
}

function insidePolygon(x: number, y: number, polygon: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
