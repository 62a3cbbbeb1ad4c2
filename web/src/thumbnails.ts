// Thumbnails drawn on the 2D map at close zoom, sampled from the server's sprite atlases.
import * as THREE from "three";

import thumbnailsFrag from "./shaders/thumbnails.frag?raw";
import thumbnailsVert from "./shaders/thumbnails.vert?raw";
import type { ThumbnailInfo } from "./types";

export interface ThumbnailSource {
  /** Atlas layout from /api/space. */
  info: ThumbnailInfo;
  /** URL of atlas image number `atlas`. */
  url: (atlas: number) => string;
}

/** Frame width as a fraction of the thumbnail side. */
const BORDER = 0.06;

export class ThumbnailLayer {
  /** Items drawn as thumbnails in the last update. */
  readonly drawn: number[] = [];

  private source: ThumbnailSource | null = null;
  private readonly group = new THREE.Group();
  private readonly textures = new Map<number, THREE.Texture>();
  private readonly materials = new Map<number, THREE.RawShaderMaterial>();

  constructor(
    scene: THREE.Scene,
    /** Called when an atlas finishes loading, so the caller can redraw. */
    private readonly onAtlasLoaded: () => void,
  ) {
    scene.add(this.group);
  }

  /** Whether a source is set, so the renderer should look for visible points. */
  get enabled(): boolean {
    return this.source !== null;
  }

  setSource(source: ThumbnailSource | null): void {
    this.clear();
    for (const texture of this.textures.values()) texture.dispose();
    for (const material of this.materials.values()) material.dispose();
    this.textures.clear();
    this.materials.clear();
    this.source = source;
  }

  /**
   * Rebuild the thumbnails for the given visible points; null removes them. Points of atlases
   * that are still loading stay dots until the atlas arrives.
   */
  update(visible: number[] | null, positions: Float32Array, colors: Uint8Array, sizePx: number): void {
    this.clear();
    const source = this.source;
    if (!visible || !source) return;

    const byAtlas = new Map<number, number[]>();
    for (const i of visible) {
      if (i >= source.info.count) continue;
      const atlas = Math.floor(i / source.info.per_atlas);
      const list = byAtlas.get(atlas) ?? [];
      list.push(i);
      byAtlas.set(atlas, list);
    }

    for (const [atlas, indices] of byAtlas) {
      const material = this.materialFor(atlas, source);
      if (!material) continue;
      material.uniforms.uThumbSize.value = sizePx;
      const points = new THREE.Points(this.geometryFor(indices, atlas, source.info, positions, colors), material);
      points.frustumCulled = false;
      points.renderOrder = 1;
      this.group.add(points);
      this.drawn.push(...indices);
    }
  }

  private geometryFor(
    indices: number[],
    atlas: number,
    info: ThumbnailInfo,
    positions: Float32Array,
    colors: Uint8Array,
  ): THREE.BufferGeometry {
    const xy = new Float32Array(indices.length * 2);
    const tile = new Float32Array(indices.length);
    const rgba = new Uint8Array(indices.length * 4);
    indices.forEach((index, k) => {
      xy[2 * k] = positions[2 * index];
      xy[2 * k + 1] = positions[2 * index + 1];
      tile[k] = index - atlas * info.per_atlas;
      rgba.set(colors.subarray(4 * index, 4 * index + 4), 4 * k);
    });
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute("position", new THREE.BufferAttribute(xy, 2));
    geometry.setAttribute("tile", new THREE.BufferAttribute(tile, 1));
    geometry.setAttribute("color", new THREE.Uint8BufferAttribute(rgba, 4, true));
    // three.js would read a z coordinate that 2D positions lack; any finite sphere will do.
    geometry.boundingSphere = new THREE.Sphere(new THREE.Vector3(xy[0] ?? 0, xy[1] ?? 0, 0), 1);
    return geometry;
  }

  /** Material of one atlas, or null while its image is loading. */
  private materialFor(atlas: number, source: ThumbnailSource): THREE.RawShaderMaterial | null {
    const ready = this.materials.get(atlas);
    if (ready) return ready;
    if (this.textures.has(atlas)) return null;

    const texture = new THREE.TextureLoader().load(source.url(atlas), (loaded) => {
      const image = loaded.image as HTMLImageElement;
      const [tileW, tileH] = source.info.tile;
      const material = new THREE.RawShaderMaterial({
        glslVersion: THREE.GLSL3,
        vertexShader: thumbnailsVert,
        fragmentShader: thumbnailsFrag,
        uniforms: {
          uAtlas: { value: loaded },
          uTileUv: { value: new THREE.Vector2(tileW / image.width, tileH / image.height) },
          uPerRow: { value: source.info.per_row },
          uThumbSize: { value: 40 },
          uBorder: { value: BORDER },
        },
      });
      this.materials.set(atlas, material);
      this.onAtlasLoaded();
    });
    // Atlas rows run top to bottom like gl_PointCoord; mipmaps would blend neighbouring tiles.
    texture.flipY = false;
    texture.generateMipmaps = false;
    texture.magFilter = THREE.NearestFilter;
    texture.minFilter = THREE.LinearFilter;
    this.textures.set(atlas, texture);
    return null;
  }

  private clear(): void {
    for (const child of [...this.group.children]) {
      (child as THREE.Points).geometry.dispose();
      this.group.remove(child);
    }
    this.drawn.length = 0;
  }
}
