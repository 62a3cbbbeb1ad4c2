"""Browser tests of the explorer: the built page in headless Chromium against the real server.

They need Debian's Chromium at /usr/bin/chromium (`apt-get install chromium`) and the built
frontend (`make web`). Without them the tests skip, except when the environment variable CI
is set, where they fail. Screenshots of the main states go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sklearn.decomposition import PCA

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
STATIC_INDEX = REPO / "src" / "latentspace" / "server" / "static" / "index.html"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
XSS_LABEL = "<img src=x onerror=alert(1)>"
# Class 3 of the digits gets the markup label; row 3 of the data set is a 3.
XSS_CLASS = 3
XSS_ITEM = 3
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    # WebGL through SwiftShader, so the page renders the same with or without a GPU.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    # Keep Chromium from contacting Google's services, which test machines may not reach.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 850}
TIMEOUT_MS = 20_000


try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the dev extras are not installed
    expect = sync_playwright = None


def skip_or_fail(message: str) -> None:
    """Skip on a developer machine; fail in CI, where everything must be installed."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module", autouse=True)
def browser_requirements() -> None:
    if sync_playwright is None:
        skip_or_fail("playwright is not installed; install the dev extras with "
                     "`pip install -e '.[dev]'`")
    if not CHROMIUM.is_file():
        skip_or_fail(f"{CHROMIUM} not found; install it with `apt-get install -y chromium`")
    if not STATIC_INDEX.is_file():
        skip_or_fail(f"{STATIC_INDEX} not found; build the explorer with `make web`")


# ---------------------------------------------------------------- spaces and servers


def digits_with_markup_label() -> Any:
    """The digits data set with class 3 renamed to an HTML snippet that runs script if parsed."""
    from latentspace.data import load_dataset

    data = load_dataset("digits")
    names = list(data.label_names)
    names[XSS_CLASS] = XSS_LABEL
    return dataclasses.replace(data, label_names=names)


def add_pca_maps(space: Any) -> None:
    """Store 2D and 3D PCA maps of the latents; computed here, they need no projection module."""
    for dims in (2, 3):
        coords = PCA(dims, random_state=0).fit_transform(space.z)
        space.projections[f"pca-{dims}d"] = coords.astype(np.float32)


@pytest.fixture(scope="module")
def decoder_space() -> Any:
    from latentspace.space import LatentSpace

    space = LatentSpace.fit(digits_with_markup_label(), model="pca", latent_dim=8,
                            progress=False)
    add_pca_maps(space)
    return space


@pytest.fixture(scope="module")
def explore_only_space() -> Any:
    """An explore-only space whose first map is isomap-2d, to test the default projection.

    The isomap-2d and tsne-2d maps are stand-ins (the PCA map with its axes swapped): the tests
    only need their names, and computing Isomap or t-SNE would slow them down.
    """
    from latentspace.space import LatentSpace

    space = LatentSpace.from_embeddings(digits_with_markup_label())
    add_pca_maps(space)
    stand_in = space.projections["pca-2d"][:, ::-1].copy()
    maps = {"isomap-2d": stand_in, **space.projections, "tsne-2d": stand_in}
    space.projections.clear()
    space.projections.update(maps)
    return space


def start_server(space: Any) -> Any:
    from latentspace.server.run import serve

    return serve(space, host="127.0.0.1", port=0, block=False, access_log=False)


@pytest.fixture(scope="module")
def server(decoder_space: Any) -> Iterator[Any]:
    running = start_server(decoder_space)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def explore_only_server(explore_only_space: Any) -> Iterator[Any]:
    running = start_server(explore_only_space)
    yield running
    running.stop()


# ---------------------------------------------------------------- browser and page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Explorer:
    """A page of the explorer with the helpers the tests share."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, fragment: str = "") -> None:
        self.page.goto(self.base_url + fragment)
        self.page.wait_for_selector('[data-testid="map"][data-ready="true"]', timeout=TIMEOUT_MS)

    def by_id(self, testid: str) -> Any:
        return self.page.get_by_test_id(testid)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def map_box(self) -> dict:
        return self.by_id("map").bounding_box()

    def view(self) -> dict:
        return json.loads(self.by_id("map").get_attribute("data-view"))

    def hover(self, x: float, y: float) -> int | None:
        """Move the mouse to (x, y) in map pixels; return the index in the tooltip, if any."""
        box = self.map_box()
        self.page.mouse.move(box["x"] + x, box["y"] + y)
        # Picking runs on the next animation frame.
        self.page.wait_for_timeout(60)
        tooltip = self.by_id("tooltip")
        if not tooltip.is_visible():
            return None
        return int(tooltip.get_attribute("data-index"))

    def find_point(self, start: tuple[float, float], exclude: set[int] = frozenset()
                   ) -> tuple[float, float, int]:
        """Walk a spiral from `start` (map pixels) until the cursor is over a point."""
        for radius in range(0, 200, 6):
            steps = max(1, radius // 3)
            for k in range(steps):
                angle = 2 * np.pi * k / steps
                x = start[0] + radius * np.cos(angle)
                y = start[1] + radius * np.sin(angle)
                index = self.hover(x, y)
                if index is not None and index not in exclude:
                    return x, y, index
        raise AssertionError(f"no point found within 200 px of {start}")

    def find_empty(self) -> tuple[float, float]:
        """A map position away from every point, the legend and the status line."""
        box = self.map_box()
        for x, y in [(box["width"] - 30, 30), (box["width"] - 30, box["height"] - 40),
                     (box["width"] / 2, 25), (300, box["height"] - 40)]:
            if self.hover(x, y) is None:
                return x, y
        raise AssertionError("no empty map position found")

    def click_map(self, x: float, y: float, shift: bool = False) -> None:
        box = self.map_box()
        if shift:
            self.page.keyboard.down("Shift")
        self.page.mouse.click(box["x"] + x, box["y"] + y)
        if shift:
            self.page.keyboard.up("Shift")

    def strip_sources(self) -> list[str]:
        images = self.by_id("interpolation-strip").get_by_test_id("strip-image")
        return [images.nth(i).get_attribute("src") for i in range(images.count())]


@pytest.fixture
def explorer(browser: Any, server: Any) -> Iterator[Explorer]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    wrapped = Explorer(page, server.url)
    yield wrapped
    context.close()
    assert wrapped.dialogs == [], f"the page opened dialogs: {wrapped.dialogs}"
    assert wrapped.errors == [], f"the page raised errors: {wrapped.errors}"


def canvas_pixels(explorer: Explorer) -> np.ndarray:
    png = explorer.by_id("map-canvas").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


# ---------------------------------------------------------------- tests


def test_map_draws_points(explorer: Explorer) -> None:
    explorer.open()
    pixels = canvas_pixels(explorer)
    background = pixels[2, 2]
    drawn = np.any(np.abs(pixels.astype(int) - background) > 30, axis=-1)
    colours = {tuple(c) for c in pixels[drawn][::7] // 32}

    assert drawn.mean() > 0.01, "the canvas is (almost) blank"
    assert len(colours) >= 5, f"expected points in several class colours, got {len(colours)}"
    assert explorer.by_id("legend").get_by_test_id("legend-item").count() == 10
    explorer.screenshot("main")


def test_hover_shows_thumbnail(explorer: Explorer) -> None:
    explorer.open()
    box = explorer.map_box()
    _, _, index = explorer.find_point((box["width"] / 2, box["height"] / 2))

    thumb = explorer.by_id("tooltip-thumb")
    assert thumb.is_visible()
    assert "api/thumbnails/0.png" in thumb.evaluate("el => el.style.backgroundImage")
    assert explorer.by_id("tooltip-label").text_content() != ""
    # Ids arrive after the first frame; hover again once they have.
    expect(explorer.by_id("map")).to_have_attribute("data-ids-loaded", "true")
    explorer.find_point((box["width"] / 2, box["height"] / 2))
    assert explorer.by_id("tooltip-id").text_content() == f"id {index}"
    explorer.screenshot("hover")


def test_click_shows_neighbours(explorer: Explorer) -> None:
    explorer.open()
    box = explorer.map_box()
    x, y, index = explorer.find_point((box["width"] / 2, box["height"] / 2))
    explorer.click_map(x, y)

    expect(explorer.by_id("item-id")).to_have_text(str(index))
    assert explorer.by_id("item-image").get_attribute("src").startswith("data:image/png")
    assert explorer.by_id("item-reconstruction").get_attribute("src").startswith("data:image/png")
    expect(explorer.by_id("neighbour")).to_have_count(10)
    distances = [float(d) for d in explorer.by_id("neighbour-distance").all_text_contents()]
    assert distances == sorted(distances)

    explorer.by_id("neighbours-k").fill("4")
    explorer.by_id("neighbours-k").dispatch_event("change")
    expect(explorer.by_id("neighbour")).to_have_count(4)
    explorer.screenshot("item")


def test_neighbours_k_error_beside_field(explorer: Explorer) -> None:
    explorer.open("#i=0")
    k = explorer.by_id("neighbours-k")
    expect(explorer.by_id("neighbour")).to_have_count(10)
    k.fill("5000")
    k.dispatch_event("change")

    assert k.evaluate("el => el.scrollWidth <= el.clientWidth"), "the field cuts off 5000"
    error = explorer.by_id("neighbours-k-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("k must be an integer from 1 to 100; got 5000.")
    field, message = k.bounding_box(), error.bounding_box()
    gap = message["y"] - (field["y"] + field["height"])
    assert 0 <= gap < 30, "the error is not next to the field"
    expect(explorer.by_id("status")).not_to_contain_text("must be")
    expect(explorer.by_id("neighbour")).to_have_count(10)
    explorer.screenshot("neighbours-k-error")


def pick_two_items(explorer: Explorer) -> tuple[int, int]:
    box = explorer.map_box()
    x, y, first = explorer.find_point((box["width"] * 0.3, box["height"] * 0.4))
    explorer.click_map(x, y)
    expect(explorer.by_id("item-id")).to_have_text(str(first))
    x, y, second = explorer.find_point((box["width"] * 0.7, box["height"] * 0.6), {first})
    explorer.click_map(x, y, shift=True)
    return first, second


def test_two_items_show_strip(explorer: Explorer) -> None:
    explorer.open()
    explorer.by_id("walk-steps").fill("7")
    explorer.by_id("walk-steps").dispatch_event("change")
    first, second = pick_two_items(explorer)

    strip = explorer.by_id("interpolation-strip")
    expect(strip.get_by_test_id("strip-image")).to_have_count(7)
    assert explorer.by_id("walk-a").text_content().startswith(str(first))
    assert explorer.by_id("walk-b").text_content().startswith(str(second))
    assert all(src.startswith("data:image/png") for src in explorer.strip_sources())

    explorer.by_id("walk-steps").fill("12")
    explorer.by_id("walk-steps").dispatch_event("change")
    expect(strip.get_by_test_id("strip-image")).to_have_count(12)
    explorer.screenshot("interpolation")


def test_steps_out_of_range_rejected(explorer: Explorer) -> None:
    explorer.open()
    steps = explorer.by_id("walk-steps")
    error = explorer.by_id("walk-steps-error")
    assert steps.get_attribute("min") == "2"
    assert steps.get_attribute("max") == "64"
    expect(explorer.by_id("walk-steps-range")).to_have_text("2–64")
    pick_two_items(explorer)
    strip_images = explorer.by_id("interpolation-strip").get_by_test_id("strip-image")
    expect(strip_images).to_have_count(10)

    for value in ["1", "0", "1000", "-3"]:
        steps.fill(value)
        steps.dispatch_event("change")
        expect(error).to_be_visible()
        expect(error).to_contain_text(f"from 2 to 64; got {value}")
        expect(steps).to_have_value(value)
        expect(explorer.by_id("walk-run")).to_be_disabled()
    explorer.screenshot("steps-error")
    expect(strip_images).to_have_count(10)

    steps.fill("5")
    steps.dispatch_event("change")
    expect(error).to_be_hidden()
    expect(strip_images).to_have_count(5)


def test_strip_keeps_end_points_visible(explorer: Explorer) -> None:
    explorer.open()
    box = explorer.map_box()
    x, y, first = explorer.find_point((box["width"] * 0.4, box["height"] * 0.3))
    explorer.click_map(x, y)
    expect(explorer.by_id("item-id")).to_have_text(str(first))
    # B close to the bottom edge, where the strip opens.
    x, y, second = explorer.find_point((box["width"] * 0.5, box["height"] - 30), {first})
    explorer.click_map(x, y, shift=True)
    strip = explorer.by_id("interpolation-strip")
    expect(strip.get_by_test_id("strip-image")).to_have_count(10)

    # The map shrinks above the strip instead of lying under it.
    explorer.page.wait_for_timeout(100)
    box = explorer.map_box()
    assert box["y"] + box["height"] <= strip.bounding_box()["y"] + 1
    overlay = explorer.by_id("map-overlay")
    for end, index in (("a", first), ("b", second)):
        ex, ey = json.loads(overlay.get_attribute(f"data-{end}"))
        assert 0 < ex < box["width"], f"{end} is off the map at x={ex}"
        # The status line covers the bottom 20 px of the map.
        assert 0 < ey < box["height"] - 20, f"{end} is off the map or under the status at y={ey}"
        assert explorer.hover(ex, ey) == index
    explorer.screenshot("strip-end-points")

    explorer.by_id("strip-collapse").click()
    expect(strip.get_by_test_id("strip-image").first).to_be_hidden()
    explorer.page.wait_for_function(
        f"() => document.querySelector('[data-testid=map]').clientHeight > {box['height'] + 40}")


def test_slerp_changes_strip(explorer: Explorer) -> None:
    explorer.open()
    pick_two_items(explorer)
    strip = explorer.by_id("interpolation-strip")
    expect(strip).to_have_attribute("data-method", "lerp")
    lerp = explorer.strip_sources()

    explorer.by_id("walk-method").select_option("slerp")
    expect(strip).to_have_attribute("data-method", "slerp")
    slerp = explorer.strip_sources()

    assert len(slerp) == len(lerp)
    assert slerp[0] == lerp[0], "both methods start at item A"
    assert slerp != lerp


def test_empty_click_decodes_position(explorer: Explorer) -> None:
    explorer.open()
    x, y = explorer.find_empty()
    explorer.click_map(x, y)

    expect(explorer.by_id("decoded-panel")).to_be_visible()
    assert explorer.by_id("decoded-image").get_attribute("src").startswith("data:image/png")
    assert explorer.by_id("decoded-inverse").text_content() in {"exact", "knn-weighted"}
    explorer.screenshot("decoded")


def test_url_restores_view(explorer: Explorer) -> None:
    explorer.open("#p=pca-2d&v=1.5,-2,3&i=5&s=10-19,40")

    expect(explorer.by_id("item-id")).to_have_text("5")
    expect(explorer.by_id("selection-count")).to_have_attribute("data-count", "11")
    assert explorer.by_id("projection-select").input_value() == "pca-2d"
    view = explorer.view()
    assert view["kind"] == "2d"
    assert view["center"] == pytest.approx([1.5, -2], abs=1e-4)
    assert view["zoom"] == pytest.approx(3, rel=1e-4)


def test_view_written_to_url(explorer: Explorer) -> None:
    explorer.open()
    box = explorer.map_box()
    explorer.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    explorer.page.mouse.wheel(0, -400)
    # The URL is rewritten a moment after the view stops changing.
    explorer.page.wait_for_function("""() => {
        const view = JSON.parse(document.querySelector('[data-testid="map"]').dataset.view);
        return view.zoom > 1.01 && location.hash.includes(`,${Number(view.zoom.toPrecision(6))}`);
    }""")
    saved = explorer.page.evaluate("() => location.hash")
    view = explorer.view()

    explorer.page.goto("about:blank")
    explorer.open(saved)
    restored = explorer.view()
    assert restored["center"] == pytest.approx(view["center"], rel=1e-4, abs=1e-4)
    assert restored["zoom"] == pytest.approx(view["zoom"], rel=1e-4)


def test_legend_beside_map(explorer: Explorer) -> None:
    explorer.open()
    legend = explorer.by_id("legend-panel").bounding_box()
    box = explorer.map_box()
    assert legend["x"] + legend["width"] <= box["x"] + 1, "the legend overlaps the map"

    explorer.by_id("legend-toggle").click()
    expect(explorer.by_id("legend-item").first).to_be_hidden()
    explorer.page.wait_for_function(
        f"() => document.querySelector('[data-testid=map]').clientWidth > {box['width'] + 100}")
    explorer.by_id("legend-toggle").click()
    expect(explorer.by_id("legend-item").first).to_be_visible()


def test_class_colours_match_report(explorer: Explorer) -> None:
    from latentspace.figures.common import class_colours

    explorer.open()
    expected = [
        "rgb({}, {}, {})".format(*np.round(rgba[:3] * 255).astype(int))
        for rgba in class_colours(10)
    ]
    swatches = explorer.page.locator('[data-testid="legend-item"] .swatch')
    colours = [swatches.nth(i).evaluate("el => getComputedStyle(el).backgroundColor")
               for i in range(swatches.count())]
    assert colours == expected
    assert colours[2] == "rgb(44, 160, 44)", "class 2 is tab10's green"


def test_label_markup_is_text(explorer: Explorer) -> None:
    explorer.open(f"#i={XSS_ITEM}")

    expect(explorer.by_id("item-label")).to_have_text(XSS_LABEL)
    names = explorer.by_id("legend-name").all_text_contents()
    assert names[XSS_CLASS] == XSS_LABEL
    assert explorer.page.locator('[data-testid="legend"] img').count() == 0
    assert explorer.page.locator('[data-testid="item-panel"] img[src="x"]').count() == 0
    # An onerror handler would run right after the image failed to load.
    explorer.page.wait_for_timeout(300)
    assert explorer.dialogs == []


def test_legend_click_hides_class(explorer: Explorer) -> None:
    explorer.open()
    before = canvas_pixels(explorer)
    explorer.by_id("legend-item").nth(0).click()
    expect(explorer.by_id("legend-item").nth(0)).to_have_class("legend-item off")
    explorer.page.wait_for_function("() => location.hash.includes('h=0')")
    after = canvas_pixels(explorer)
    assert np.any(before != after)


def test_box_selection_exports_csv(explorer: Explorer) -> None:
    explorer.open()
    box = explorer.map_box()
    explorer.by_id("mode-box").click()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    explorer.page.mouse.move(cx - 120, cy - 100)
    explorer.page.mouse.down()
    explorer.page.mouse.move(cx, cy, steps=5)
    explorer.page.mouse.move(cx + 120, cy + 100, steps=5)
    explorer.page.mouse.up()

    count = int(explorer.by_id("selection-count").get_attribute("data-count"))
    assert count > 0
    explorer.screenshot("selection")
    with explorer.page.expect_download() as download_info:
        explorer.by_id("export-csv").click()
    text = Path(download_info.value.path()).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["index", "id", "label"]
    assert len(rows) == count + 1
    assert all(row[0] == row[1] for row in rows[1:]), "digits ids are the row numbers"


def test_search_highlights_matches(explorer: Explorer) -> None:
    explorer.open()
    explorer.by_id("search-input").fill("img src")
    # No class name equals the text, so names containing it match.
    expect(explorer.by_id("search-count")).to_have_text("183 matches by part of a label")
    explorer.by_id("select-matches").click()
    expect(explorer.by_id("selection-count")).to_have_attribute("data-count", "183")


def test_search_scopes_and_enter(explorer: Explorer, decoder_space: Any) -> None:
    explorer.open()
    labels = np.asarray(decoder_space.dataset.labels)
    ids = [str(i) for i in decoder_space.dataset.ids]
    label_7 = int(np.sum(labels == 7))
    id_prefix_7 = sum(i.startswith("7") for i in ids)
    id_matches = {k for k, i in enumerate(ids) if i.startswith("7")}
    both = len(set(np.flatnonzero(labels == 7)) | id_matches)
    search = explorer.by_id("search-input")
    count = explorer.by_id("search-count")

    search.fill("7")
    expect(count).to_have_text(f"{both} matches: {label_7} by label, {id_prefix_7} by id")
    explorer.by_id("search-scope").select_option("label")
    expect(count).to_have_text(f"{label_7} matches")
    explorer.by_id("search-scope").select_option("id")
    expect(count).to_have_text(f"{id_prefix_7} matches")
    # In the id scope, Enter opens the item whose id equals the text.
    search.press("Enter")
    expect(explorer.by_id("item-id")).to_have_text("7")

    explorer.by_id("search-scope").select_option("any")
    search.fill("1796")
    expect(count).to_have_text("1 match by id")
    search.press("Enter")
    expect(explorer.by_id("item-id")).to_have_text("1796")
    explorer.screenshot("search")


def test_close_zoom_draws_thumbnails(explorer: Explorer) -> None:
    explorer.open()
    box = explorer.map_box()
    x, y, _ = explorer.find_point((box["width"] / 2, box["height"] / 2))
    explorer.page.mouse.move(box["x"] + x, box["y"] + y)
    for _ in range(4):
        explorer.page.mouse.wheel(0, -400)
        explorer.page.wait_for_timeout(50)
    map_element = explorer.by_id("map")
    expect(map_element).to_have_attribute("data-thumbnails", "true")
    explorer.screenshot("thumbnails")


def isolated_item_view(explorer: Explorer, space: Any, projection: str, gap_px: float
                       ) -> tuple[int, str]:
    """Pick the item farthest from its nearest neighbour on `projection`.

    Returns it and a URL fragment that centres the map on it, zoomed so that its nearest
    neighbour is about `gap_px` CSS pixels away. The scale repeats the explorer's fitted view
    (90% of the map's width or height spans the projection's bounds).
    """
    coords = np.asarray(space.projections[projection], dtype=np.float64)
    distances = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    nearest = distances.min(axis=1)
    item = int(np.argmax(nearest))

    with urllib.request.urlopen(explorer.base_url + "api/space") as response:
        info = json.load(response)
    low, high = next(p["bounds"] for p in info["projections"] if p["name"] == projection)
    box = explorer.map_box()
    fitted = 0.9 * min(box["width"] / (high[0] - low[0]), box["height"] / (high[1] - low[1]))
    zoom = gap_px / (nearest[item] * fitted)
    return item, f"#p={projection}&v={coords[item, 0]},{coords[item, 1]},{zoom}"


def test_thumbnail_hit_area_matches_square(explorer: Explorer, decoder_space: Any) -> None:
    explorer.open()
    item, fragment = isolated_item_view(explorer, decoder_space, "pca-2d", gap_px=150)
    explorer.page.goto("about:blank")
    explorer.open(fragment)
    expect(explorer.by_id("map")).to_have_attribute("data-thumbnails", "true")
    box = explorer.map_box()
    cx, cy = box["width"] / 2, box["height"] / 2
    half = 20  # half the 40 px thumbnail side (RendererConfig.thumbnailSize)

    # Near a corner of the thumbnail, far outside the 6 px radius used for dots.
    assert explorer.hover(cx + half - 4, cy - half + 4) == item
    assert explorer.hover(cx + half + 6, cy) is None, "the hit area is larger than the thumbnail"
    assert explorer.hover(cx - half + 4, cy + half - 4) == item
    explorer.screenshot("thumbnail-hover")

    explorer.click_map(cx + half - 4, cy + half - 4)
    expect(explorer.by_id("item-id")).to_have_text(str(item))
    assert not explorer.by_id("decoded-panel").is_visible()


def test_projection_switch_to_3d(explorer: Explorer) -> None:
    explorer.open()
    explorer.by_id("projection-select").select_option("pca-3d")
    explorer.page.wait_for_function("() => location.hash.includes('p=pca-3d')")
    assert explorer.view()["kind"] == "3d"
    pixels = canvas_pixels(explorer)
    drawn = np.any(np.abs(pixels.astype(int) - pixels[2, 2]) > 30, axis=-1)
    assert drawn.mean() > 0.005

    # Picking in 3D reads point indices back from the GPU.
    box = explorer.map_box()
    explorer.find_point((box["width"] / 2, box["height"] / 2))
    expect(explorer.by_id("tooltip-thumb")).to_be_visible()
    explorer.screenshot("projection-3d")


def test_3d_switch_drops_2d_marks(explorer: Explorer) -> None:
    explorer.open()
    x, y = explorer.find_empty()
    explorer.click_map(x, y)
    expect(explorer.by_id("decoded-panel")).to_be_visible()
    box = explorer.map_box()
    explorer.find_point((box["width"] / 2, box["height"] / 2))
    expect(explorer.by_id("tooltip")).to_be_visible()

    # Switching leaves the mouse on the map, where the 2D hover was.
    explorer.by_id("projection-select").select_option("pca-3d")
    explorer.page.wait_for_function("() => location.hash.includes('p=pca-3d')")
    expect(explorer.by_id("tooltip")).to_be_hidden()
    expect(explorer.by_id("decoded-panel")).to_be_hidden()

    explorer.find_point((box["width"] / 2, box["height"] / 2))
    expect(explorer.by_id("tooltip")).to_be_visible()
    # Orbiting moves the item away from the cursor, so its tooltip must not stay behind.
    start_x, start_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    explorer.page.mouse.down()
    explorer.page.mouse.move(start_x + 150, start_y + 40, steps=8)
    expect(explorer.by_id("tooltip")).to_be_hidden()
    explorer.page.mouse.up()
    explorer.screenshot("projection-3d-orbit")


def test_color_by_numeric_column(explorer: Explorer) -> None:
    explorer.open()
    before = canvas_pixels(explorer)
    options = explorer.by_id("color-select").locator("option").all_text_contents()
    assert "reconstruction_error" in options
    explorer.by_id("color-select").select_option("reconstruction_error")

    expect(explorer.by_id("legend-range-title")).to_have_text("reconstruction_error")
    explorer.page.wait_for_function("() => location.hash.includes('c=reconstruction_error')")
    assert np.any(canvas_pixels(explorer) != before)
    explorer.screenshot("color-by-column")


def test_sample_places_markers(explorer: Explorer) -> None:
    explorer.open()
    explorer.by_id("sample-n").fill("6")
    explorer.by_id("sample-button").click()
    strip = explorer.by_id("sample-strip")
    expect(strip.get_by_test_id("strip-image")).to_have_count(6)
    explorer.screenshot("samples")


def test_traversal_slider_decodes(explorer: Explorer) -> None:
    explorer.open("#i=0")
    slider = explorer.by_id("traversal-slider-0")
    expect(slider).to_be_visible()
    slider.evaluate("el => { el.value = el.max; el.dispatchEvent(new Event('input')); }")
    image = explorer.by_id("traversal-image")
    expect(image).to_be_visible()
    assert image.get_attribute("src").startswith("data:image/png")
    assert image.get_attribute("src") != explorer.by_id("item-reconstruction").get_attribute("src")


def test_default_projection_prefers_tsne(browser: Any, explore_only_server: Any) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = Explorer(context.new_page(), explore_only_server.url)
    try:
        page.open()
        # The server lists isomap-2d first; without umap-2d, tsne-2d is preferred.
        assert page.by_id("projection-select").input_value() == "tsne-2d"
        page.page.wait_for_function("() => location.hash.includes('p=tsne-2d')")
        page.page.goto("about:blank")
        page.open("#p=isomap-2d")
        assert page.by_id("projection-select").input_value() == "isomap-2d"
        assert page.errors == []
    finally:
        context.close()


def test_explore_only_hides_decoding(browser: Any, explore_only_server: Any) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = Explorer(context.new_page(), explore_only_server.url)
    try:
        page.open("#i=0")
        note = page.by_id("decoder-note")
        expect(note).to_be_visible()
        assert note.text_content().strip() != ""
        for testid in ("sample-button", "walk-panel", "traversal-panel", "decoded-panel"):
            assert not page.by_id(testid).is_visible(), f"{testid} is shown without a decoder"
        expect(page.by_id("item-id")).to_have_text("0")
        assert page.by_id("item-reconstruction").count() == 0

        x, y = page.find_empty()
        page.click_map(x, y)
        page.page.wait_for_timeout(300)
        assert not page.by_id("decoded-panel").is_visible()
        page.screenshot("explore-only")
        assert page.errors == []
        assert page.dialogs == []
    finally:
        context.close()
