"""Exporting the reconstructed scene for other tools: glTF binary, USD, or a .blend.

The sandbox writes the .blend; glTF and USD exporters are operators the
sandbox refuses, so they run in a trusted job on that file.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from seig.apps.run import AppError, Run, run_program
from seig.context import Context
from seig.tools.trusted_job import TrustedJobError, run_trusted

FORMATS = {"glb": (".glb",), "usd": (".usdc", ".usd", ".usda"), "blend": (".blend",)}


def blender_job(bpy, job: dict, progress) -> dict:
    out = job["out"]
    if job["format"] == "glb":
        bpy.ops.export_scene.gltf(
            filepath=out, export_format="GLB", export_apply=True, export_cameras=True, export_lights=True
        )
    else:
        bpy.ops.wm.usd_export(filepath=out, export_materials=True)
    return {"path": out}


def export(run: Run, fmt: str, *, out: Path | None = None, ctx: Context | None = None) -> Path:
    """Write the run's scene as glb, usd or blend (default: scene.<ext> in the run directory)."""
    if fmt not in FORMATS:
        raise AppError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    ctx = ctx or Context()
    out = Path(out) if out else run.dir / f"scene{FORMATS[fmt][0]}"
    if out.suffix.lower() not in FORMATS[fmt]:
        raise AppError(f"{out}: a {fmt} export needs a file name ending in {' or '.join(FORMATS[fmt])}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seig-export-") as scratch:
        blend = Path(scratch) / "scene.blend"
        run_program(run.program, ctx, blend_out=blend)
        if fmt == "blend":
            shutil.copy2(blend, out)
            return out
        try:
            job = {"kind": "export", "blend": str(blend), "format": fmt, "out": str(out.resolve())}
            run_trusted(job, timeout=ctx.job_timeout)
        except TrustedJobError as exc:
            raise AppError(f"export to {fmt} failed: {exc}") from None
    return out
