"""Image folder loading: layouts, modes, sizes, cache and bad files."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
from PIL import Image

from latentspace.data import imagefiles, images
from latentspace.data.images import load_image_folder
from latentspace.errors import DataError, InvalidParameterError

# (format suffix, Pillow mode) pairs that Pillow can write.
FORMAT_MODES = [
    (".png", "L"), (".png", "RGB"), (".png", "RGBA"), (".png", "P"), (".png", "I;16"),
    (".jpg", "L"), (".jpg", "RGB"), (".jpg", "CMYK"),
    (".bmp", "L"), (".bmp", "RGB"), (".bmp", "P"),
    (".gif", "P"), (".gif", "L"),
    (".tif", "L"), (".tif", "RGB"), (".tif", "RGBA"), (".tif", "CMYK"), (".tif", "I;16"),
    (".webp", "RGB"), (".webp", "RGBA"),
]
SIZES = [(32, 32), (32, 32), (32, 32), (24, 40), (48, 30)]


def make_image(mode: str, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Make a random image; `size` is (height, width)."""
    height, width = size
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, size, dtype=np.uint16))
    if mode == "P":
        return Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).convert(
            "P", palette=Image.Palette.ADAPTIVE, colors=16)
    channels = {"L": 1, "RGB": 3, "RGBA": 4, "CMYK": 4}[mode]
    pixels = rng.integers(0, 255, (height, width, channels), dtype=np.uint8)
    if channels == 1:
        return Image.fromarray(pixels[..., 0])
    return Image.frombytes(mode, (width, height), pixels.tobytes())


def gray_png(path, value: int = 128, size=(8, 8)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(size, value, dtype=np.uint8)).save(path)


def load(path, tmp_path, **options):
    return load_image_folder(path, cache_dir=tmp_path / "cache", progress=False, **options)


def test_mixed_folder_loads_with_right_shape(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    counts = {"cats": 0, "dogs": 0, "Größe 3": 0}
    for index in range(240):
        suffix, mode = FORMAT_MODES[index % len(FORMAT_MODES)]
        size = SIZES[(index // len(FORMAT_MODES)) % len(SIZES)]
        label = list(counts)[index % 3]
        counts[label] += 1
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        make_image(mode, size, rng).save(folder / f"{index:03d}_{mode.replace(';', '')}{suffix}")

    data = load(root, tmp_path)

    assert data.x.shape == (240, 3, 32, 32)
    assert data.x.dtype == np.float32
    assert data.x.min() >= 0.0
    assert data.x.max() <= 1.0
    assert data.label_names == sorted(counts)
    assert np.bincount(data.labels).tolist() == [counts[n] for n in sorted(counts)]
    assert data.info["skipped_files"] == []
    assert data.info["layout"] == "class-folders"

    gray = load(root, tmp_path, channels=1)
    assert gray.x.shape == (240, 1, 32, 32)


def test_grayscale_folder_defaults_to_one_channel(tmp_path):
    for index in range(4):
        gray_png(tmp_path / "digits" / "a" / f"{index}.png", value=40 * index)
    # Grayscale content saved as RGB also counts as grayscale.
    Image.fromarray(np.full((8, 8, 3), 90, dtype=np.uint8)).save(tmp_path / "digits/a/rgb.png")

    data = load(tmp_path / "digits", tmp_path)

    assert data.x.shape == (5, 1, 8, 8)
    assert data.info["channels"] == 1


def test_transparency_composited_on_white(tmp_path):
    root = tmp_path / "alpha"
    root.mkdir()
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half fully transparent
    Image.fromarray(rgba, "RGBA").save(root / "rgba.png")
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([0, 0, 255] + [0, 0, 0] * 255)
    palette.save(root / "palette.png", transparency=0)

    data = load(root, tmp_path)
    by_id = dict(zip(data.ids, data.x, strict=True))

    np.testing.assert_allclose(by_id["rgba.png"][:, 0, 0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(by_id["rgba.png"][:, 3, 0], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(by_id["palette.png"][:, 0, 0], [1.0, 1.0, 1.0])

    black = load(root, tmp_path, background=0.0)
    np.testing.assert_allclose(dict(zip(black.ids, black.x, strict=True))["rgba.png"][:, 3, 0], 0.0)


def test_sixteen_bit_scaled_from_full_range(tmp_path):
    root = tmp_path / "deep"
    root.mkdir()
    values = np.array([[0, 65535], [32768, 1000]], dtype=np.uint16)
    Image.fromarray(values).save(root / "a.png")
    Image.fromarray(values).save(root / "b.tif")

    data = load(root, tmp_path)

    for pixels in data.x:
        np.testing.assert_allclose(pixels[0], values / 65535.0, atol=1e-6)


def test_cmyk_converted_to_rgb(tmp_path):
    root = tmp_path / "print"
    root.mkdir()
    Image.new("CMYK", (4, 4), (0, 255, 0, 0)).save(root / "magenta.tif")

    data = load(root, tmp_path)

    np.testing.assert_allclose(data.x[0, :, 0, 0], [1.0, 0.0, 1.0])


def test_exif_orientation_applied(tmp_path):
    root = tmp_path / "phone"
    root.mkdir()
    pixels = np.zeros((2, 3), dtype=np.uint8)
    pixels[0, 0] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display after turning 90 degrees clockwise
    Image.fromarray(pixels).save(root / "rotated.png", exif=exif)

    data = load(root, tmp_path)

    assert data.x.shape == (1, 1, 3, 2)
    assert data.x[0, 0, 0, 1] == 1.0
    assert data.x[0, 0].sum() == 1.0


def test_mixed_sizes_padded_with_border_colour(tmp_path):
    root = tmp_path / "sizes"
    for index in range(3):
        gray_png(root / f"square{index}.png", value=0, size=(8, 8))
    wide = np.zeros((4, 8), dtype=np.uint8)
    wide[1:3, 2:6] = 255
    Image.fromarray(wide).save(root / "wide.png")

    data = load(root, tmp_path)
    padded = dict(zip(data.ids, data.x, strict=True))["wide.png"][0]

    assert data.x.shape == (4, 1, 8, 8)
    # The 4x8 image sits in rows 2 to 5; the margins take its black border colour.
    np.testing.assert_allclose(padded[:2], 0.0)
    np.testing.assert_allclose(padded[6:], 0.0)
    np.testing.assert_allclose(padded[3:5, 2:6], 1.0)


def test_crop_and_explicit_size(tmp_path):
    root = tmp_path / "crop"
    root.mkdir()
    wide = np.zeros((8, 16), dtype=np.uint8)
    wide[:, 4:12] = 255  # the centre 8 columns are white
    Image.fromarray(wide).save(root / "wide.png")

    cropped = load(root, tmp_path, image_size=8, fit="crop")
    stretched = load(root, tmp_path, image_size=(4, 4), fit="stretch")

    assert cropped.x.shape == (1, 1, 8, 8)
    np.testing.assert_allclose(cropped.x[0, 0], 1.0)
    assert stretched.x.shape == (1, 1, 4, 4)


def test_second_load_reads_cache(tmp_path, monkeypatch):
    root = tmp_path / "cached"
    for index in range(3):
        gray_png(root / "a" / f"{index}.png", value=50 * index)
    first = load(root, tmp_path)
    cache_files = list((tmp_path / "cache" / "images").glob("*.npz"))

    def fail(*args, **kwargs):
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(imagefiles, "decode_image", fail)
    second = load(root, tmp_path)

    assert len(cache_files) == 1
    np.testing.assert_array_equal(first.x, second.x)
    np.testing.assert_array_equal(first.labels, second.labels)
    assert list(second.ids) == list(first.ids)
    assert second.info["cache_file"] == str(cache_files[0])


def test_changed_file_invalidates_cache(tmp_path):
    root = tmp_path / "changing"
    gray_png(root / "a.png", value=10)
    gray_png(root / "b.png", value=20)
    load(root, tmp_path)
    gray_png(root / "a.png", value=200)
    stamp = (root / "a.png").stat()
    os.utime(root / "a.png", ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10**9))

    data = load(root, tmp_path)

    assert data.x[0, 0, 0, 0] == pytest.approx(200 / 255)
    assert len(list((tmp_path / "cache" / "images").glob("*.npz"))) == 2


def test_unreadable_cache_file_rebuilt(tmp_path, caplog):
    root = tmp_path / "broken_cache"
    gray_png(root / "a.png")
    gray_png(root / "b.png")
    first = load(root, tmp_path)
    with open(first.info["cache_file"], "wb") as handle:
        handle.write(b"not a zip file")

    with caplog.at_level(logging.WARNING):
        second = load(root, tmp_path)

    np.testing.assert_array_equal(first.x, second.x)
    assert "unreadable cache file" in caplog.text


def make_bad_files(root) -> list[str]:
    gray_png(root / "good1.png")
    gray_png(root / "good2.png")
    full = (root / "good1.png").read_bytes()
    (root / "truncated.png").write_bytes(full[: len(full) // 2])
    (root / "garbage.jpg").write_bytes(b"\xff\xd8 this is not a jpeg at all")
    (root / "empty.bmp").write_bytes(b"")
    return ["truncated.png", "garbage.jpg", "empty.bmp"]


def test_bad_files_listed_in_error(tmp_path):
    bad = make_bad_files(tmp_path / "bad")

    with pytest.raises(DataError, match="3 of 5 image files") as error:
        load(tmp_path / "bad", tmp_path)

    for name in bad:
        assert name in str(error.value)
    assert "skip_bad=True" in str(error.value)


def test_skip_bad_records_skipped_files(tmp_path):
    bad = make_bad_files(tmp_path / "bad")

    data = load(tmp_path / "bad", tmp_path, skip_bad=True)

    assert len(data) == 2
    assert sorted(entry["file"] for entry in data.info["skipped_files"]) == sorted(bad)
    assert all(entry["error"] for entry in data.info["skipped_files"])


def test_all_files_bad_raises_even_when_skipping(tmp_path):
    root = tmp_path / "allbad"
    root.mkdir()
    (root / "a.png").write_bytes(b"nope")
    (root / "b.png").write_bytes(b"nope")

    with pytest.raises(DataError, match="None of the 2 image files"):
        load(root, tmp_path, skip_bad=True)


def test_flat_folder_with_labels_csv(tmp_path):
    root = tmp_path / "flat"
    for index in range(4):
        gray_png(root / f"img{index}.png", value=60 * index)
    (root / "labels.csv").write_text(
        "file,label,source\n"
        'img0.png,"chat, noir",web\n'
        "img1.png,10,scan\n"
        "img2.png,2,scan\n"
        "img3.png,猫 🐱,web\n",
        encoding="utf-8",
    )

    data = load(root, tmp_path)

    assert data.info["layout"] == "csv"
    assert data.label_text().tolist() == ["chat, noir", "10", "2", "猫 🐱"]
    assert list(data.metadata["source"]) == ["web", "scan", "scan", "web"]


def test_integer_csv_labels_ordered_by_value(tmp_path):
    root = tmp_path / "numbers"
    for index in range(3):
        gray_png(root / f"{index}.png")
    labels = tmp_path / "my_labels.csv"
    labels.write_text("path,digit\n0.png,10\n1.png,2\n2.png,1\n")

    data = load(root, tmp_path, labels_csv=labels, label_column="digit")

    assert data.label_names == ["1", "2", "10"]
    assert data.labels.tolist() == [2, 1, 0]


def test_csv_naming_missing_file_rejected(tmp_path):
    root = tmp_path / "missing"
    gray_png(root / "a.png")
    (root / "labels.csv").write_text("file,label\na.png,x\nb.png,y\n")

    with pytest.raises(DataError, match=r"lists 1 files that are not in .*: b\.png"):
        load(root, tmp_path)


def test_csv_without_file_column_rejected(tmp_path):
    root = tmp_path / "nofile"
    gray_png(root / "a.png")
    (root / "labels.csv").write_text("name_of_thing,label\na.png,x\n")

    with pytest.raises(DataError, match="no file column found"):
        load(root, tmp_path)


def test_flat_folder_without_csv_unlabelled(tmp_path):
    root = tmp_path / "plain"
    gray_png(root / "a.png")
    gray_png(root / "b.png")
    (root / "notes.txt").write_text("not an image")
    gray_png(root / ".hidden.png")

    data = load(root, tmp_path)

    assert data.labels is None
    assert list(data.ids) == ["a.png", "b.png"]


def test_class_names_kept_verbatim(tmp_path):
    names = ["ñandú", "two words", "x,y;z", "日本"]
    for name in names:
        gray_png(tmp_path / "classes" / name / "1.png")
        gray_png(tmp_path / "classes" / name / "nested" / "2.png")

    data = load(tmp_path / "classes", tmp_path)

    assert data.label_names == sorted(names)
    assert len(data) == 8


def test_loose_images_beside_class_folders_rejected(tmp_path):
    gray_png(tmp_path / "mixed" / "loose.png")
    gray_png(tmp_path / "mixed" / "cls" / "a.png")

    with pytest.raises(DataError, match="both directly"):
        load(tmp_path / "mixed", tmp_path)


def test_empty_or_missing_folder_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no images here")

    with pytest.raises(DataError, match="No image files found"):
        load(tmp_path / "empty", tmp_path)
    with pytest.raises(DataError, match="Image folder not found"):
        load(tmp_path / "absent", tmp_path)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("channels", 2, "channels must be 1"),
        ("fit", "squash", "fit must be one of"),
        ("image_size", (0, 4), "image_size must be"),
        ("background", 2.0, "background must be"),
    ],
)
def test_invalid_options_rejected(tmp_path, option, value, message):
    gray_png(tmp_path / "ok" / "a.png")

    with pytest.raises(InvalidParameterError, match=message):
        load(tmp_path / "ok", tmp_path, **{option: value})


def test_animated_gif_uses_first_frame(tmp_path):
    root = tmp_path / "anim"
    root.mkdir()
    frames = [Image.new("L", (4, 4), value) for value in (0, 255)]
    frames[0].save(root / "a.gif", save_all=True, append_images=frames[1:])

    data = load(root, tmp_path)

    np.testing.assert_allclose(data.x[0], 0.0)


def test_progress_bar_and_no_cache(tmp_path):
    gray_png(tmp_path / "bar" / "a.png")
    gray_png(tmp_path / "bar" / "b.png")

    data = load_image_folder(tmp_path / "bar", cache=False, progress=True)

    assert data.info["cache_file"] is None
    assert len(data) == 2


def test_readable_extensions_cover_common_formats():
    extensions = imagefiles.readable_extensions()

    for suffix in (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"):
        assert suffix in extensions
    assert ".h5" not in extensions  # Pillow only identifies HDF5, it cannot decode it


def test_listing_counts_match_files(tmp_path):
    gray_png(tmp_path / "list" / "b" / "1.png")
    gray_png(tmp_path / "list" / "a" / "1.png")
    gray_png(tmp_path / "list" / "a" / "2.png")

    listing = images.list_images(tmp_path / "list")

    assert listing.files == ["a/1.png", "a/2.png", "b/1.png"]
    assert listing.labels.tolist() == [0, 0, 1]
