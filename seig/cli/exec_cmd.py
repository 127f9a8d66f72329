"""``seig exec``: run any scene program (e.g. a hand-edited scene.py) in the sandbox and render it.

The program goes through the same policy and sandboxed worker as model-written
code, so a script from anywhere can be tried safely. A ``scene.py`` written by
seig carries a reset header and a render footer that the policy would refuse;
they are stripped first, and the footer's aspect ratio is kept.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer

from seig.cli import app
from seig.context import Context
from seig.tools.executor import BlenderExecutor, RenderSpec
from seig.tools.program import extract_program

RESOLUTION = re.compile(r"resolution_([xy])\s*=\s*(\d+)")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"seig exec: {message}", err=True)
    return typer.Exit(code)


def render_size(script: str, long_side: int) -> tuple[int, int]:
    """(width, height) with the long side given and the aspect of the script's own footer, if any."""
    found = dict(RESOLUTION.findall(script))
    width, height = int(found.get("x", 1) or 1), int(found.get("y", 1) or 1)
    scale = long_side / max(width, height, 1)
    return max(8, round(width * scale)), max(8, round(height * scale))


@app.command("exec")
def exec_program(
    program: Path = typer.Argument(..., help="A Blender Python scene program, or a scene.py written by seig."),
    out: Path = typer.Option(..., "--out", help="Directory for render.png and scene.blend."),
    resolution: int = typer.Option(256, "--resolution", min=8, max=4096, help="Long side of the render in pixels."),
    samples: int = typer.Option(32, "--samples", min=1, max=4096, help="Cycles samples."),
    timeout: float = typer.Option(None, "--timeout", min=1, help="Seconds before the job is stopped."),
) -> None:
    """Run a scene program in the sandbox and render it to OUT/render.png (+ OUT/scene.blend)."""
    if not program.is_file():
        raise _fail(f"{program}: no such file", 2)
    try:
        script = program.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"{program}: cannot read it as UTF-8 text ({type(exc).__name__})", 2)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"{out}: cannot create the output directory ({exc.strerror})", 2)
    options = Context().executor_options()
    if timeout is not None:
        options["timeout"] = timeout
    width, height = render_size(script, resolution)
    executor = BlenderExecutor(**options)
    try:
        result = executor.run(
            extract_program(script),
            workdir=out,
            blend_out=out / "scene.blend",
            render=RenderSpec(width, height, samples=samples),
            render_out=out / "render.png",
        )
    except RuntimeError as exc:  # the worker could not start at all
        raise _fail(str(exc))
    finally:
        executor.close()
    if not result.ok:
        raise _fail(result.error or "the program failed")
    for note in result.notes:
        typer.echo(f"note: {note}")
    typer.echo(f"rendered {width}x{height} in {result.seconds:.1f} s: {result.render_path}")
    typer.echo(f"scene: {result.blend_path}")
