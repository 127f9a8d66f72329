"""Bad and unusual photos: each gives a clear BadImage or a correct, upright 8-bit RGB image."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seig.tools.images import MAX_TARGET_SIDE, BadImage, load_photo, save_target, to_linear, to_srgb


def rgb(photo: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    return photo.getpixel((x, y))


def test_a_plain_jpeg_loads(tmp_path):
    Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / "a.jpg", quality=95)
    photo = load_photo(tmp_path / "a.jpg")
    assert photo.mode == "RGB" and photo.size == (64, 48)
    assert np.allclose(rgb(photo, 10, 10), (200, 30, 30), atol=4)


def test_missing_directory_and_empty_files(tmp_path):
    with pytest.raises(BadImage, match="no such file"):
        load_photo(tmp_path / "nope.png")
    with pytest.raises(BadImage, match="directory"):
        load_photo(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(BadImage, match="empty"):
        load_photo(tmp_path / "empty.png")


def test_truncated_jpeg_and_png(tmp_path):
    for name in ("t.jpg", "t.png"):
        full = tmp_path / f"full-{name}"
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(full)
        data = full.read_bytes()
        (tmp_path / name).write_bytes(data[: len(data) // 3])
        with pytest.raises(BadImage, match="damaged or truncated|not a readable image") as err:
            load_photo(tmp_path / name)
        assert "\n" not in str(err.value)


def test_not_an_image_with_an_image_extension(tmp_path):
    (tmp_path / "notes.png").write_text("these are not pixels\n" * 20)
    with pytest.raises(BadImage, match="not a readable image"):
        load_photo(tmp_path / "notes.png")


def test_wrong_extension_is_read_by_content(tmp_path):
    Image.new("RGB", (32, 32), (10, 200, 10)).save(tmp_path / "really-a-png.jpg", format="PNG")
    photo = load_photo(tmp_path / "really-a-png.jpg")
    assert rgb(photo, 5, 5) == (10, 200, 10)


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A valid PNG signature and IHDR claiming huge dimensions, with a tiny body: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_enormous_dimensions_are_refused_before_decoding(tmp_path):
    _png_header_only(tmp_path / "bomb.png", 100_000, 100_000)
    with pytest.raises(BadImage, match="not a readable image"):
        load_photo(tmp_path / "bomb.png")
    _png_header_only(tmp_path / "wide.png", 15_000, 15_000)  # 225 Mpx: over the limit, under twice it
    with pytest.raises(BadImage):
        load_photo(tmp_path / "wide.png")


def test_tiny_images_are_refused(tmp_path):
    Image.new("RGB", (4, 100)).save(tmp_path / "sliver.png")
    with pytest.raises(BadImage, match="at least 8x8"):
        load_photo(tmp_path / "sliver.png")


def test_large_images_are_downscaled(tmp_path):
    Image.new("RGB", (3000, 1500), (1, 2, 3)).save(tmp_path / "big.png")
    photo = load_photo(tmp_path / "big.png")
    assert photo.size == (MAX_TARGET_SIDE, MAX_TARGET_SIDE // 2)


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    photo = load_photo(tmp_path / "anim.gif")
    assert photo.mode == "RGB" and rgb(photo, 16, 16) == (255, 0, 0)


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg", quality=95)  # pure red in print
    photo = load_photo(tmp_path / "cmyk.jpg")
    r, g, b = rgb(photo, 16, 16)
    assert photo.mode == "RGB" and r > 230 and g < 25 and b < 25


def test_sixteen_bit_png_keeps_its_brightness(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (16, 1))
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    photo = load_photo(tmp_path / "deep.png")
    row = np.asarray(photo)[8, :, 0].astype(int)
    assert photo.mode == "RGB" and row[0] == 0 and row[-1] == 255 and abs(row[32] - 130) <= 2


def test_greyscale_becomes_three_equal_channels(tmp_path):
    Image.new("L", (32, 32), 77).save(tmp_path / "grey.png")
    photo = load_photo(tmp_path / "grey.png")
    assert photo.mode == "RGB" and rgb(photo, 3, 3) == (77, 77, 77)


def test_alpha_is_composited_on_white(tmp_path):
    img = Image.new("RGBA", (32, 32), (255, 0, 0, 255))
    img.paste((0, 0, 255, 0), (0, 0, 16, 32))  # left half fully transparent blue
    img.save(tmp_path / "alpha.png")
    photo = load_photo(tmp_path / "alpha.png")
    assert rgb(photo, 4, 4) == (255, 255, 255) and rgb(photo, 28, 4) == (255, 0, 0)


def test_exif_rotation_is_applied(tmp_path):
    img = Image.new("RGB", (60, 30), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 10, 30))  # a red band on the left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    photo = load_photo(tmp_path / "rotated.jpg")
    assert photo.size == (30, 60)
    top, bottom = rgb(photo, 15, 3), rgb(photo, 15, 56)
    assert top[0] > 200 and top[2] < 60  # the stored left edge is now the top
    assert bottom[2] > 200 and bottom[0] < 60


def test_save_target_writes_a_normalised_png(tmp_path):
    Image.new("LA", (40, 20), (90, 255)).save(tmp_path / "in.png")
    out = save_target(tmp_path / "in.png", tmp_path / "run" / "target.png")
    with Image.open(out) as stored:
        assert stored.mode == "RGB" and stored.size == (40, 20) and stored.getpixel((1, 1)) == (90, 90, 90)


def test_srgb_transfer_curve_round_trips_and_matches_known_levels():
    """Middle grey: 18 % linear reflectance is sRGB level 118 of 255; the two directions undo each other."""
    assert to_srgb(np.array(0.18)) * 255 == pytest.approx(118.0, abs=0.5)
    levels = np.linspace(0.0, 1.0, 257)
    assert np.allclose(to_srgb(to_linear(levels)), levels, atol=1e-9)
