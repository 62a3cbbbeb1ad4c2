// Typed client for the explorer HTTP API. Every call rejects with ApiError on a non-2xx status.
import type {
  DecodeResponse,
  InterpolateResponse,
  ItemInfo,
  LabelArray,
  NeighborsResponse,
  SampleResponse,
  SearchResponse,
  SpaceInfo,
} from "./types";

/** Failed API request; the message carries the server's `detail` text when it sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status of the response. */
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

async function check(response: Response, request: string): Promise<Response> {
  if (response.ok) return response;
  let detail = response.statusText;
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (body.detail !== undefined) detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch {
    // The body was not JSON; keep the status text.
  }
  throw new ApiError(`${request} failed (${response.status}): ${detail}`, response.status);
}

async function getJson<T>(path: string): Promise<T> {
  const response = await check(await fetch(path), `GET ${path}`);
  return (await response.json()) as T;
}

async function postJson<T>(path: string, body: unknown): Promise<T> {
  const init: RequestInit = {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await check(await fetch(path, init), `POST ${path}`);
  return (await response.json()) as T;
}

async function getBinary(path: string): Promise<{ buffer: ArrayBuffer; headers: Headers }> {
  const response = await check(await fetch(path), `GET ${path}`);
  return { buffer: await response.arrayBuffer(), headers: response.headers };
}

export function fetchSpace(): Promise<SpaceInfo> {
  return getJson<SpaceInfo>("api/space");
}

/** Fetch the coordinates of one projection as a flat Float32Array of n_points * dims values. */
export async function fetchPoints(projection: string): Promise<{ positions: Float32Array; dims: number }> {
  const { buffer, headers } = await getBinary(`api/points?projection=${encodeURIComponent(projection)}`);
  const dims = Number(headers.get("X-Dims") ?? "2");
  return { positions: new Float32Array(buffer), dims };
}

export async function fetchLabels(dtype: SpaceInfo["labels"]["dtype"]): Promise<LabelArray> {
  const { buffer } = await getBinary("api/labels");
  if (dtype === "uint8") return new Uint8Array(buffer);
  if (dtype === "uint16") return new Uint16Array(buffer);
  return new Float32Array(buffer);
}

export async function fetchColumn(name: string): Promise<Float32Array> {
  const { buffer } = await getBinary(`api/columns/${encodeURIComponent(name)}`);
  return new Float32Array(buffer);
}

export function atlasUrl(atlas: number): string {
  return `api/thumbnails/${atlas}.png`;
}

export function fetchItem(index: number): Promise<ItemInfo> {
  return getJson<ItemInfo>(`api/items/${index}`);
}

export function fetchNeighbors(index: number, k: number): Promise<NeighborsResponse> {
  return getJson<NeighborsResponse>(`api/neighbors/${index}?k=${k}`);
}

export function search(query: string, limit = 100000): Promise<SearchResponse> {
  return getJson<SearchResponse>(`api/search?q=${encodeURIComponent(query)}&limit=${limit}`);
}

export function decodeLatent(latent: number[]): Promise<DecodeResponse> {
  return postJson<DecodeResponse>("api/decode", { latent });
}

export function decodePosition(projection: string, position: number[]): Promise<DecodeResponse> {
  return postJson<DecodeResponse>("api/decode", { projection, position });
}

export function interpolate(
  a: number,
  b: number,
  steps: number,
  method: "lerp" | "slerp",
  projection: string,
): Promise<InterpolateResponse> {
  return postJson<InterpolateResponse>("api/interpolate", { a, b, steps, method, projection });
}

export function sample(n: number, seed: number, projection: string): Promise<SampleResponse> {
  return postJson<SampleResponse>("api/sample", { n, seed, projection });
}
