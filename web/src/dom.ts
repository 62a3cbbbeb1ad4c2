// Small DOM helpers. Text from the data always goes through textContent, never innerHTML.

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

/** Create an element with attributes and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === "class") element.className = String(value);
    else if (name === "testid") element.dataset.testid = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}

/** Look up an element by its data-testid; throws when the page lacks it. */
export function byTestId<T extends HTMLElement = HTMLElement>(testid: string, root: ParentNode = document): T {
  const element = root.querySelector<T>(`[data-testid="${testid}"]`);
  if (!element) throw new Error(`element with data-testid="${testid}" not found`);
  return element;
}

/** Create an <img> for a data URL returned by the API. */
export function imageFromDataUrl(url: string, alt: string, testid?: string): HTMLImageElement {
  const image = h("img", { alt, testid, class: "pixelated" });
  image.src = url;
  return image;
}

/** Format a number with a fixed number of significant digits, dropping trailing zeros. */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toPrecision(digits)).toString();
}

/** Call `fn` once `wait` ms have passed without another call. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, wait: number): (...args: A) => void {
  let timer: number | undefined;
  return (...args: A) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => fn(...args), wait);
  };
}

/** Build a figure for a decoded result: its image, or its feature values for non-image data. */
export function decodedFigure(
  result: { image?: string | null; row?: number[] | null },
  caption: string,
  testid: string,
): HTMLElement {
  const body = result.image ? imageFromDataUrl(result.image, caption, testid) : rowValues(result.row ?? [], testid);
  return h("figure", {}, body, h("figcaption", {}, caption));
}

/** Maximum number of feature values listed for one decoded row. */
const MAX_ROW_VALUES = 12;

/** List the first feature values of a row as index and value pairs. */
function rowValues(row: number[], testid: string): HTMLElement {
  const list = h("div", { class: "row-values", testid });
  row.slice(0, MAX_ROW_VALUES).forEach((value, j) => list.append(h("span", { class: "muted" }, `x${j}`), h("span", {}, formatNumber(value))));
  if (row.length > MAX_ROW_VALUES) list.append(h("span", { class: "muted" }, "…"), h("span", {}, `${row.length - MAX_ROW_VALUES} more`));
  return list;
}

/** Text of a label from the API: class names as they are, continuous values rounded. */
export function labelString(label: string | number | null): string {
  if (label === null) return "";
  return typeof label === "number" ? formatNumber(label, 4) : label;
}

/**
 * Read an integer input and check it against [min, max]. An invalid value is rejected: `error`,
 * shown next to the field, gets a message and null is returned. A valid value hides the message.
 */
export function readIntegerField(input: HTMLInputElement, error: HTMLElement, name: string, min: number, max: number): number | null {
  const text = input.value.trim();
  const value = Number(text);
  const valid = text !== "" && Number.isInteger(value) && value >= min && value <= max;
  input.setAttribute("aria-invalid", String(!valid));
  error.hidden = valid;
  error.textContent = valid ? "" : `${name} must be an integer from ${min} to ${max}; got ${text === "" ? "nothing" : text}.`;
  return valid ? value : null;
}

/** Create the element that shows a field's validation message, hidden until there is one. */
export function fieldError(testid: string): HTMLElement {
  const error = h("span", { class: "field-error", role: "alert", testid });
  error.hidden = true;
  return error;
}
