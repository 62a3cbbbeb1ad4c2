"""Endpoints of the explorer API under ``/api``.

Arrays with one value per item travel as little-endian binary; everything else is JSON.
Checks that depend on the space (index ranges, latent length, projection names) are
made here and raise `HTTPException` with a message naming the field, the value received
and the allowed range.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from latentspace.server import schemas
from latentspace.server.mapping import ProjectionMap
from latentspace.server.schemas import MAX_K, MAX_QUERY_LENGTH, MAX_SEARCH_LIMIT, MAX_SEED
from latentspace.server.state import ExplorerState
from latentspace.walks import traverse_latent

router = APIRouter(prefix="/api")

BINARY = "application/octet-stream"


def get_state(request: Request) -> ExplorerState:
    """Return the explorer state that `create_app` stored on the app."""
    return request.app.state.explorer


State = Annotated[ExplorerState, Depends(get_state)]


# ------------------------------------------------------------------ checks


def check_index(state: ExplorerState, index: int, field: str, status: int = 422) -> int:
    """Reject an item index at or beyond the number of items."""
    if not 0 <= index < state.n_items:
        raise HTTPException(
            status,
            f"{field}: item index {index} is out of range; valid indices are "
            f"0..{state.n_items - 1}",
        )
    return index


def projection_map(state: ExplorerState, name: str | None) -> ProjectionMap:
    """Return the named projection, or the first one when `name` is None; 404 if unknown."""
    if name is None and state.maps:
        return next(iter(state.maps.values()))
    if name not in state.maps:
        available = ", ".join(state.maps) or "none"
        raise HTTPException(
            404, f"projection: {name!r} not found; available projections: {available}"
        )
    return state.maps[name]


def require_decoder(state: ExplorerState) -> None:
    """Raise 409 with the reason when the space cannot decode."""
    if not state.has_decoder:
        raise HTTPException(409, state.decoder_note)


def binary(data: bytes, **headers: str) -> Response:
    """Wrap little-endian array bytes in a response the browser will not sniff as HTML."""
    return Response(data, media_type=BINARY,
                    headers={"X-Content-Type-Options": "nosniff", **headers})


def walk_response(state: ExplorerState, latents: np.ndarray, projection: str | None) -> dict:
    """Decode `latents` and place them on `projection` when one is named."""
    selected = None if projection is None else projection_map(state, projection)
    images, rows = state.samples_payload(state.decode(latents))
    positions = placement = None
    if selected is not None:
        placed, placement = selected.place(latents)
        positions = placed.astype(float).tolist()
    return {"images": images, "rows": rows, "latents": np.asarray(latents, float).tolist(),
            "positions": positions, "placement": placement}


# ------------------------------------------------------------------ metadata and arrays


@router.get("/space")
def get_space(state: State) -> dict:
    """Describe the space: sizes, labels, projections, thumbnails and request limits."""
    return state.metadata()


@router.get("/points")
def get_points(state: State, projection: Annotated[str | None, Query(max_length=100)] = None
               ) -> Response:
    """Send one projection's positions as float32, item by item (X-Dims values each)."""
    selected = projection_map(state, projection)
    return binary(state.point_bytes[selected.name], **{"X-Dims": str(selected.dims),
                                                       "X-Projection": selected.name})


@router.get("/labels")
def get_labels(state: State) -> Response:
    """Send the label of every item: uint8/uint16 class codes, or float32 values."""
    if state.labels.values is None:
        raise HTTPException(404, "labels: this data set has no labels (labels.kind is 'none')")
    values = state.labels.values
    return binary(np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes(),
                  **{"X-Label-Dtype": str(values.dtype)})


@router.get("/ids")
def get_ids(state: State) -> Response:
    """Send the item ids as text, one per line in index order."""
    return Response(state.ids_text(), media_type="text/plain; charset=utf-8",
                    headers={"X-Content-Type-Options": "nosniff"})


@router.get("/columns/{name}")
def get_column(state: State, name: Annotated[str, Path(max_length=100)]) -> Response:
    """Send a numeric column as float32, one value per item."""
    if name not in state.columns:
        listed = ", ".join(list(state.columns)[:20]) or "none"
        raise HTTPException(404, f"column: {name!r} not found; numeric columns: {listed}")
    return binary(state.column_bytes(name))


@router.get("/thumbnails/{atlas}.png")
def get_thumbnail_atlas(state: State, atlas: Annotated[int, Path(ge=0)]) -> Response:
    """Send sprite atlas number `atlas` as PNG."""
    if state.thumbnails is None:
        raise HTTPException(404, "thumbnails: this data set has no images")
    try:
        png = state.thumbnails.png(atlas)
    except IndexError as error:
        raise HTTPException(404, f"atlas: {error}") from error
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-cache"})


# ------------------------------------------------------------------ items


@router.get("/items/{index}", response_model=schemas.ItemResponse)
def get_item(state: State, index: Annotated[int, Path(ge=0)]) -> dict:
    """Describe one item, with its image (or feature row) and its reconstruction."""
    check_index(state, index, "index", status=404)
    dataset = state.dataset
    sample = dataset.x[index : index + 1]
    recon = state.reconstruct([index]) if state.has_decoder else None
    image = reconstruction = row = recon_row = None
    if dataset.is_image:
        image = state.samples_payload(sample)[0][0]
        reconstruction = None if recon is None else state.samples_payload(recon)[0][0]
    else:
        row = state.samples_payload(sample)[1][0]
        recon_row = None if recon is None else state.samples_payload(recon)[1][0]
    return {
        "index": index, "id": str(dataset.ids[index]), "label": state.labels.of(index),
        "metadata": state.item_metadata(index), "image": image, "reconstruction": reconstruction,
        "row": row, "reconstruction_row": recon_row, "latent": state.z[index].tolist(),
    }


@router.get("/neighbors/{index}", response_model=schemas.NeighborsResponse)
def get_neighbors(state: State, index: Annotated[int, Path(ge=0)],
                  k: Annotated[int, Query(ge=1, le=MAX_K)] = 10) -> dict:
    """List the `k` items nearest to item `index` in latent space, nearest first."""
    check_index(state, index, "index", status=404)
    if k > state.n_items - 1:
        raise HTTPException(
            422, f"k: {k} neighbours requested but only {state.n_items - 1} other items "
                 f"exist; use 1..{min(MAX_K, state.n_items - 1)}")
    indices, distances = state.neighbors(index, k)
    neighbours = [
        {"index": int(i), "id": str(state.dataset.ids[i]), "label": state.labels.of(int(i)),
         "distance": float(d)}
        for i, d in zip(indices.tolist(), distances.tolist(), strict=True)
    ]
    return {"index": index, "k": k, "neighbors": neighbours}


@router.get("/search", response_model=schemas.SearchResponse)
def search(state: State, q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_LENGTH)],
           limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT)] = 1000) -> dict:
    """Find items whose id or label text contains `q`, ignoring case."""
    found = state.search(q)
    return {"indices": found[:limit].tolist(), "total": int(len(found))}


# ------------------------------------------------------------------ walks


@router.post("/decode", response_model=schemas.DecodeResponse)
def decode(state: State, body: schemas.DecodeRequest) -> dict:
    """Decode a latent vector, or the latent under a position on a projection."""
    require_decoder(state)
    if body.latent is not None:
        if len(body.latent) != state.z.shape[1]:
            raise HTTPException(
                422, f"latent: expected {state.z.shape[1]} values (the latent dimension), "
                     f"received {len(body.latent)}")
        latent, inverse = np.asarray([body.latent], dtype=np.float32), "latent"
    else:
        selected = projection_map(state, body.projection)
        if len(body.position) != selected.dims:
            raise HTTPException(
                422, f"position: projection {selected.name!r} has {selected.dims} dimensions, "
                     f"received {len(body.position)} values")
        latent, inverse = selected.to_latent(np.asarray([body.position]))

    images, rows = state.samples_payload(state.decode(latent))
    return {"image": images[0] if images else None, "row": rows[0] if rows else None,
            "latent": latent[0].astype(float).tolist(), "inverse": inverse}


@router.post("/interpolate", response_model=schemas.WalkResponse)
def interpolate(state: State, body: schemas.InterpolateRequest) -> dict:
    """Decode `steps` points on the path from item `a` to item `b`, endpoints included."""
    require_decoder(state)
    check_index(state, body.a, "a")
    check_index(state, body.b, "b")
    latents = state.space.interpolate(body.a, body.b, steps=body.steps, method=body.method,
                                      decode=False)
    return walk_response(state, np.asarray(latents, dtype=np.float32), body.projection)


@router.post("/sample", response_model=schemas.SampleResponse)
def sample(state: State, body: schemas.SampleRequest) -> dict:
    """Decode `n` draws from the prior; the returned seed reproduces them."""
    require_decoder(state)
    seed = body.seed if body.seed is not None else secrets.randbelow(MAX_SEED + 1)
    latents = state.space.sample(body.n, seed=seed, decode=False)
    return {**walk_response(state, np.asarray(latents, dtype=np.float32), body.projection),
            "seed": seed}


@router.post("/traverse", response_model=schemas.TraverseResponse)
def traverse(state: State, body: schemas.TraverseRequest) -> dict:
    """Decode item `index` with latent dimension `dim` set to each of `values`."""
    require_decoder(state)
    check_index(state, body.index, "index")
    if body.dim >= state.z.shape[1]:
        raise HTTPException(
            422, f"dim: latent dimension {body.dim} is out of range; valid dimensions are "
                 f"0..{state.z.shape[1] - 1}")
    latents = traverse_latent(state.z[body.index], body.dim, np.asarray(body.values))
    return {**walk_response(state, latents, body.projection), "values": list(body.values)}


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                  include_in_schema=False)
def unknown_endpoint(request: Request) -> None:
    """Return 404 in JSON for API paths that do not exist, instead of the frontend's page."""
    raise HTTPException(
        404, f"no API endpoint {request.method} {request.url.path}; see /api/docs for the list")
