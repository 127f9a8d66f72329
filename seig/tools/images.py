"""Reading photos safely and writing the pictures people look at (comparisons, strips)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

MAX_TARGET_SIDE = 1024
MAX_INPUT_PIXELS = 200_000_000


class BadImage(ValueError):
    """The input is not a usable photograph; the message says why in one line."""


def load_photo(path: Path | str) -> Image.Image:
    """Open any common photo as 8-bit RGB, upright, downscaled to MAX_TARGET_SIDE."""
    path = Path(path)
    if not path.exists():
        raise BadImage(f"{path}: no such file")
    if path.is_dir():
        raise BadImage(f"{path}: is a directory, not an image")
    if path.stat().st_size == 0:
        raise BadImage(f"{path}: the file is empty")
    Image.MAX_IMAGE_PIXELS = MAX_INPUT_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged metadata warnings: the pixels decide
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.seek(0)
                img.draft("RGB", (MAX_TARGET_SIDE * 2, MAX_TARGET_SIDE * 2))
                img.load()
                img = ImageOps.exif_transpose(img)
                photo = _to_rgb(img)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(f"{path}: not a readable image ({exc.__class__.__name__})") from None
    except Exception as exc:  # a malformed file can make any decoder raise anything
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadImage(f"{path}: the image is damaged or truncated ({reason})") from None
    if min(photo.size) < 8:
        raise BadImage(f"{path}: the image is {photo.size[0]}x{photo.size[1]}; at least 8x8 pixels are needed")
    if max(photo.size) > MAX_TARGET_SIDE:
        photo.thumbnail((MAX_TARGET_SIDE, MAX_TARGET_SIDE), Image.LANCZOS)
    return photo


def _to_rgb(img: Image.Image) -> Image.Image:
    """Greyscale, palette, alpha (composited on white), CMYK and 16-bit all become 8-bit RGB."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(arr / max(arr.max(), 1e-9) * 255.0, 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def save_target(src: Path | str, dest: Path) -> Path:
    """Validate a photo and store the normalised copy the run will compare against."""
    photo = load_photo(src)
    dest.parent.mkdir(parents=True, exist_ok=True)
    photo.save(dest)
    return dest


def file_version(path: Path | str) -> tuple[str, int, int]:
    """The path with its modification time and size: a cache key that changes when the file does."""
    stat = Path(path).stat()
    return str(path), stat.st_mtime_ns, stat.st_size


def render_size(target: Path | str, long_side: int) -> tuple[int, int]:
    """Render dimensions with the target's aspect ratio and the given long side."""
    with Image.open(target) as img:
        w, h = img.size
    scale = long_side / max(w, h)
    return max(8, round(w * scale)), max(8, round(h * scale))


def to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB levels to linear light, the inverse of ``to_srgb`` (inputs clipped to [0, 1])."""
    srgb = np.clip(srgb, 0.0, 1.0)
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light to sRGB levels: the transfer curve of Blender's Standard view transform."""
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.power(linear, 1 / 2.4) - 0.055)


def read_rgb(path: Path | str, size: tuple[int, int] | None = None) -> np.ndarray:
    """A float RGB array in [0, 1], optionally resized to (width, height)."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        if size is not None and img.size != tuple(size):
            img = img.resize(size, Image.LANCZOS)
        return np.asarray(img, dtype=np.float32) / 255.0


def comparison_image(target: Path | str, render: Path | str, out: Path, label: str = "") -> Path:
    """Target | render | difference heat map, side by side, so a person sees what is off."""
    render_rgb = read_rgb(render)
    h, w = render_rgb.shape[:2]
    target_rgb = read_rgb(target, (w, h))
    diff = np.abs(target_rgb - render_rgb).mean(axis=2)
    heat = np.stack([np.clip(diff * 3, 0, 1), np.clip(diff * 1.5, 0, 1) * 0.4, 1 - np.clip(diff * 3, 0, 1)], axis=2)
    heat = heat * 0.7 + target_rgb.mean(axis=2, keepdims=True) * 0.3
    panels = [target_rgb, render_rgb, heat]
    pad, header = 4, 18
    canvas = Image.new("RGB", (3 * w + 4 * pad, h + header + pad), (24, 24, 24))
    draw = ImageDraw.Draw(canvas)
    for i, (panel, title) in enumerate(zip(panels, ("target", "render", "difference"))):
        x = pad + i * (w + pad)
        canvas.paste(Image.fromarray((np.clip(panel, 0, 1) * 255).astype(np.uint8)), (x, header))
        draw.text((x + 2, 3), title, fill=(230, 230, 230))
    if label:
        draw.text((canvas.width - 8 * len(label) - 4, 3), label, fill=(250, 200, 80))
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)
    return out


def contact_strip(images: list[tuple[str, Path]], out: Path, height: int = 160) -> Path:
    """A row of labelled thumbnails (target, stage renders, final) for reports and the README."""
    thumbs = []
    for label, path in images:
        with Image.open(path) as img:
            img = img.convert("RGB")
            img = img.resize((max(1, round(img.width * height / img.height)), height), Image.LANCZOS)
        thumbs.append((label, img))
    pad, header = 6, 20
    width = sum(t.width for _, t in thumbs) + pad * (len(thumbs) + 1)
    canvas = Image.new("RGB", (width, height + header + pad), (250, 250, 250))
    draw = ImageDraw.Draw(canvas)
    x = pad
    for label, thumb in thumbs:
        canvas.paste(thumb, (x, header))
        draw.text((x + 2, 4), label, fill=(30, 30, 30))
        x += thumb.width + pad
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)
    return out
