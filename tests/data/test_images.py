"""Every format a user is likely to drop in a folder decodes to the right RGB."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import save
from PIL import Image

from pocketvision.data.images import is_ignored, load_rgb
from pocketvision.errors import ImageError


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    ramp = (np.arange(64, dtype=np.uint16) * 1024).reshape(8, 8)  # 0 .. 64512
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)  # uint16 -> mode I;16
    assert Image.open(path).mode.startswith("I")
    rgb = np.asarray(load_rgb(path))
    assert rgb.shape == (8, 8, 3)
    np.testing.assert_allclose(rgb[..., 0].flatten(), np.round(ramp.flatten().astype(float) * 255 / 65535), atol=1)


def test_alpha_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half fully transparent
    path = save(rgba, tmp_path / "alpha.png")
    rgb = np.asarray(load_rgb(path))
    assert (rgb[:2] == [255, 0, 0]).all()
    assert (rgb[2:] == [255, 255, 255]).all()


def test_exif_orientation_is_applied(tmp_path, photos):
    image = Image.fromarray(photos["chelsea"])  # 451 x 300, landscape
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif)
    assert load_rgb(path).size == (300, 451)


def test_cmyk_palette_gif_webp_bmp_decode(tmp_path, photos):
    image = Image.fromarray(photos["coffee"]).resize((64, 48))
    image.convert("CMYK").save(tmp_path / "cmyk.jpg")
    image.convert("P").save(tmp_path / "palette.png")
    image.save(tmp_path / "anim.gif")
    image.save(tmp_path / "photo.webp")
    image.save(tmp_path / "photo.bmp")
    reference = np.asarray(image, np.float32)
    for name in ("cmyk.jpg", "palette.png", "anim.gif", "photo.webp", "photo.bmp"):
        decoded = load_rgb(tmp_path / name)
        assert decoded.mode == "RGB" and decoded.size == (64, 48), name
        assert np.abs(np.asarray(decoded, np.float32) - reference).mean() < 25, name


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b"hello, I am text", "not an image"),
])
def test_broken_files_say_why(tmp_path, content, reason):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=reason):
        load_rgb(path)


def test_truncated_jpeg_is_an_error(tmp_path, photos):
    buffer = io.BytesIO()
    Image.fromarray(photos["chelsea"]).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match="cannot decode"):
        load_rgb(path)


@pytest.mark.parametrize("name, ignored", [
    (".hidden.jpg", True), (".DS_Store", True), ("Thumbs.db", True), ("notes.txt", True),
    ("photo.jpg", False), ("scan.TIFF", False), ("no-extension", False),
])
def test_which_files_are_ignored(tmp_path, name, ignored):
    assert is_ignored(tmp_path / name) is ignored


def test_large_jpeg_decodes_reduced_but_never_below_the_requested_size(tmp_path, photos):
    big = Image.fromarray(photos["astronaut"]).resize((2048, 1536))
    path = tmp_path / "big.jpg"
    big.save(path, quality=90)
    reduced = load_rgb(path, at_least=256)
    assert reduced.size == (512, 384)  # 1/4 scale: the smallest keeping both sides >= 256
    assert load_rgb(path).size == (2048, 1536)
    assert min(load_rgb(path, at_least=400).size) >= 400
