"""A small line chart drawn with Pillow, so the benchmark needs no plotting library."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]
WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 36, 50


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    span = max(high - low, 1e-9)
    step = 10 ** np.floor(np.log10(span / count))
    step *= next(m for m in (1, 2, 5, 10) if span / (step * m) <= count)
    return list(np.arange(np.ceil(low / step) * step, high + step * 0.5, step))


def line_chart(series: dict[str, list[tuple[float, float]]], out: Path, *, title: str, xlabel: str, ylabel: str) -> Path:
    """One line per series of (x, y) points, with axes, ticks and a legend."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.font = ImageFont.load_default(size=13)
    points = [p for values in series.values() for p in values]
    xs = [x for x, _ in points] or [0.0, 1.0]
    ys = [y for _, y in points] or [0.0, 1.0]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    y0, y1 = np.floor(min(ys)) - 0.5, np.ceil(max(ys)) + 0.5
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def at(x: float, y: float) -> tuple[float, float]:
        return LEFT + (x - x0) / (x1 - x0) * plot_w, TOP + (1 - (y - y0) / (y1 - y0)) * plot_h

    draw.rectangle([LEFT, TOP, LEFT + plot_w, TOP + plot_h], outline=(80, 80, 80))
    for y in _ticks(y0, y1):
        if y0 <= y <= y1:
            _, py = at(x0, y)
            draw.line([LEFT, py, LEFT + plot_w, py], fill=(225, 225, 225))
            draw.text((LEFT - 8, py), f"{y:g}", fill=(40, 40, 40), anchor="rm")
    for x in _ticks(x0, x1):
        if x0 <= x <= x1:
            px, _ = at(x, y0)
            draw.line([px, TOP + plot_h, px, TOP + plot_h + 4], fill=(80, 80, 80))
            draw.text((px, TOP + plot_h + 8), f"{x:g}", fill=(40, 40, 40), anchor="mt")
    for i, (label, values) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        pixels = [at(x, y) for x, y in sorted(values)]
        if len(pixels) > 1:
            draw.line(pixels, fill=color, width=2)
        for px, py in pixels:
            draw.ellipse([px - 2, py - 2, px + 2, py + 2], fill=color)
        draw.line([LEFT + 10, TOP + 12 + 16 * i, LEFT + 30, TOP + 12 + 16 * i], fill=color, width=3)
        draw.text((LEFT + 36, TOP + 12 + 16 * i), label, fill=(20, 20, 20), anchor="lm")
    draw.text((WIDTH / 2, 12), title, fill=(0, 0, 0), anchor="mm")
    draw.text((LEFT + plot_w / 2, HEIGHT - 14), xlabel, fill=(40, 40, 40), anchor="mm")
    draw.text((8, TOP - 14), ylabel, fill=(40, 40, 40), anchor="lm")
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)
    return out
