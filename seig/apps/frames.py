"""Rendering a sequence of frames in a trusted job, and turning them into an animated GIF."""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def render_frames(bpy, job: dict, frames: list[int], prepare: Callable[[int, int], None], progress) -> list[str]:
    """Render each frame to job['frames_dir']/frame_NNNN.png after ``prepare(index, frame)`` sets it up."""
    from seig.tools.worker import render

    out = Path(job["frames_dir"])
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, frame in enumerate(frames):
        prepare(index, frame)
        path = str(out / f"frame_{index:04d}.png")
        render(bpy, {"path": path, "width": job["width"], "height": job["height"], "samples": job["samples"], "frame": frame})
        paths.append(path)
        progress(index + 1, len(frames))
    return paths


def write_gif(paths: list[str], out: Path, fps: float) -> Path:
    """An endlessly looping GIF of the frames."""
    from PIL import Image

    images = [Image.open(p).convert("RGB") for p in paths]
    if not images:
        raise ValueError("no frames to write")
    images[0].save(out, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0, optimize=False)
    return out
