// Thumbnails as DOM elements: one tile of a sprite atlas shown through CSS background offsets.
import { atlasUrl } from "./api";
import { h } from "./dom";
import type { ThumbnailInfo } from "./types";

/** Create an element showing item `index`'s tile, `size` CSS pixels wide; null when the item has none. */
export function spriteElement(info: ThumbnailInfo | null, index: number, size: number, testid?: string): HTMLElement | null {
  if (!info || index < 0 || index >= info.count) return null;
  const [tileW, tileH] = info.tile;
  const scale = size / tileW;
  const local = index % info.per_atlas;
  const column = local % info.per_row;
  const row = Math.floor(local / info.per_row);
  const element = h("span", { class: "sprite", testid, role: "img" });
  element.style.width = `${size}px`;
  element.style.height = `${Math.round(tileH * scale)}px`;
  element.style.backgroundImage = `url("${atlasUrl(Math.floor(index / info.per_atlas))}")`;
  element.style.backgroundPosition = `${-column * tileW * scale}px ${-row * tileH * scale}px`;
  element.style.backgroundSize = `${info.per_row * tileW * scale}px auto`;
  return element;
}
