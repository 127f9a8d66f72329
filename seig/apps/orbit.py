"""A turntable of new views: the scene's own camera swung around the vertical axis through its objects.

Rotating the whole camera transform about that axis keeps the original framing,
so frame 0 is exactly the reconstructed view and the rest are views the photo
never showed. Rendering many frames needs the trusted job.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from seig.apps.frames import render_frames, write_gif
from seig.apps.run import AppError, Run, run_program
from seig.context import Context
from seig.tools.trusted_job import Progress, TrustedJobError, run_trusted


@dataclass
class OrbitResult:
    gif: Path
    frames: int
    pivot: list[float]


def _pivot(bpy):
    """Centre of the solid objects' bounds (flat grounds and backdrops would drag it off-centre)."""
    from mathutils import Vector

    from seig.apps.simulate import is_flat, world_bounds

    meshes = [o for o in bpy.context.scene.objects if o.type == "MESH" and not o.hide_render]
    solid = [o for o in meshes if not is_flat(o)] or meshes
    if not solid:
        return Vector((0.0, 0.0, 0.0))
    bounds = [world_bounds(o) for o in solid]
    low = Vector([min(b[0][i] for b in bounds) for i in range(3)])
    high = Vector([max(b[1][i] for b in bounds) for i in range(3)])
    return (low + high) / 2


def blender_job(bpy, job: dict, progress) -> dict:
    from mathutils import Matrix

    scene = bpy.context.scene
    camera = scene.camera
    if camera is None:
        raise ValueError("the scene has no camera")
    pivot = _pivot(bpy)
    start = camera.matrix_world.copy()
    count = int(job["frames"])
    degrees = float(job["degrees"])

    def place(index: int, frame: int) -> None:
        angle = math.radians(degrees) * index / count
        spin = Matrix.Translation(pivot) @ Matrix.Rotation(angle, 4, "Z") @ Matrix.Translation(-pivot)
        camera.matrix_world = spin @ start

    render_frames(bpy, job, [scene.frame_current] * count, place, progress)
    return {"pivot": [round(v, 4) for v in pivot]}


def orbit(
    run: Run,
    *,
    frames: int = 24,
    degrees: float = 360.0,
    long_side: int = 192,
    samples: int = 8,
    fps: float = 12.0,
    out_dir: Path | None = None,
    ctx: Context | None = None,
    on_progress: Progress | None = None,
) -> OrbitResult:
    """Render a turntable of the run's scene and write orbit.gif."""
    if not 2 <= frames <= 720:
        raise AppError(f"--frames {frames}: use between 2 and 720 frames")
    ctx = ctx or Context()
    out_dir = Path(out_dir or run.dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    width, height = run.size(long_side)
    with tempfile.TemporaryDirectory(prefix="seig-orbit-") as scratch:
        blend = Path(scratch) / "scene.blend"
        run_program(run.program, ctx, blend_out=blend)
        job = {
            "kind": "orbit",
            "blend": str(blend),
            "frames": frames,
            "degrees": degrees,
            "frames_dir": str(Path(scratch) / "frames"),
            "width": width,
            "height": height,
            "samples": samples,
        }
        try:
            result = run_trusted(job, timeout=ctx.job_timeout + frames * 5.0, on_progress=on_progress)
        except TrustedJobError as exc:
            raise AppError(f"orbit failed: {exc}") from None
        paths = sorted(str(p) for p in (Path(scratch) / "frames").glob("frame_*.png"))
        gif = write_gif(paths, out_dir / "orbit.gif", fps)
    return OrbitResult(gif=gif, frames=len(paths), pivot=result["pivot"])
