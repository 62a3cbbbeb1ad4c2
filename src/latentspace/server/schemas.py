"""Request and response models of the explorer API, with the bounds every request must meet.

Pydantic checks what is fixed (types, ranges, list lengths, finiteness). Checks that
depend on the space, such as item indices below the number of items or a latent of
exactly `latent_dim` values, happen in the routes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_K = 100
MIN_STEPS = 2
MAX_STEPS = 64
MAX_SAMPLES = 256
MAX_TRAVERSE_VALUES = 64
MAX_BODY_BYTES = 64 * 1024
MAX_SEARCH_LIMIT = 100_000
MAX_QUERY_LENGTH = 200
MAX_SEED = 2**32 - 1
# Latent and map coordinates beyond this magnitude decode to saturated or overflowing
# samples for every model here, so they are rejected as input mistakes.
MAX_ABS_COORDINATE = 1e6
MAX_LATENT_DIM = 4096

LIMITS = {
    "max_k": MAX_K,
    "min_steps": MIN_STEPS,
    "max_steps": MAX_STEPS,
    "max_samples": MAX_SAMPLES,
    "max_traverse_values": MAX_TRAVERSE_VALUES,
    "max_body_bytes": MAX_BODY_BYTES,
    "max_search_limit": MAX_SEARCH_LIMIT,
    "max_query_length": MAX_QUERY_LENGTH,
    "max_abs_coordinate": MAX_ABS_COORDINATE,
}

Coordinate = Annotated[
    float, Field(allow_inf_nan=False, ge=-MAX_ABS_COORDINATE, le=MAX_ABS_COORDINATE)
]
ItemIndex = Annotated[int, Field(ge=0)]
ProjectionName = Annotated[str, Field(min_length=1, max_length=100)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]


class StrictRequest(BaseModel):
    """Base of the request bodies: unknown fields are rejected, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class DecodeRequest(StrictRequest):
    """A point to decode: a latent vector, or a position on one of the projections."""

    latent: list[Coordinate] | None = Field(None, min_length=1, max_length=MAX_LATENT_DIM)
    projection: ProjectionName | None = None
    position: list[Coordinate] | None = Field(None, min_length=2, max_length=3)

    @model_validator(mode="after")
    def _one_kind_of_point(self) -> DecodeRequest:
        by_position = self.projection is not None or self.position is not None
        if self.latent is not None and by_position:
            raise ValueError("give either latent, or projection with position, not both")
        if self.latent is None and (self.projection is None or self.position is None):
            raise ValueError("give latent, or projection together with position")
        return self


class InterpolateRequest(StrictRequest):
    """A path between two items."""

    a: ItemIndex
    b: ItemIndex
    steps: int = Field(10, ge=MIN_STEPS, le=MAX_STEPS)
    method: Literal["lerp", "slerp"] = "lerp"
    projection: ProjectionName | None = None


class SampleRequest(StrictRequest):
    """Draws from the prior; the server picks and returns a seed when none is given."""

    n: int = Field(16, ge=1, le=MAX_SAMPLES)
    seed: Seed | None = None
    projection: ProjectionName | None = None


class TraverseRequest(StrictRequest):
    """One item's latent with one dimension swept over the given values."""

    index: ItemIndex
    dim: int = Field(ge=0)
    values: list[Coordinate] = Field(min_length=1, max_length=MAX_TRAVERSE_VALUES)
    projection: ProjectionName | None = None


class NeighborEntry(BaseModel):
    """One neighbour of an item, with its latent distance."""

    index: int
    id: str
    label: str | float | None
    distance: float


class NeighborsResponse(BaseModel):
    """The `k` nearest items in latent space, nearest first."""

    index: int
    k: int
    neighbors: list[NeighborEntry]


class SearchResponse(BaseModel):
    """Matching row positions (at most `limit`) and the number of all matches."""

    indices: list[int]
    total: int


class ItemResponse(BaseModel):
    """One item: image or feature row, its reconstruction, label, metadata and latent."""

    index: int
    id: str
    label: str | float | None
    metadata: dict[str, str | float | int | bool | None]
    image: str | None
    reconstruction: str | None
    row: list[float] | None
    reconstruction_row: list[float] | None
    latent: list[float]


class DecodeResponse(BaseModel):
    """A decoded point: image (data URL) for images, row for feature vectors."""

    image: str | None
    row: list[float] | None
    latent: list[float]
    inverse: Literal["exact", "knn-weighted", "latent"]


class WalkResponse(BaseModel):
    """Decoded points of a walk with their latents and, if requested, map positions."""

    images: list[str] | None
    rows: list[list[float]] | None
    latents: list[list[float]]
    positions: list[list[float]] | None
    placement: Literal["transform", "nearest-neighbours"] | None


class SampleResponse(WalkResponse):
    """Samples from the prior and the seed that reproduces them."""

    seed: int


class TraverseResponse(WalkResponse):
    """A traversal and the values the dimension took."""

    values: list[float]
