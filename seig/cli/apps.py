"""`seig relight`, `edit`, `simulate`, `orbit`, `export`: things to do with a reconstructed scene.

RUN is a run's output directory (holding scene.py) or its thread id.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from seig.apps.edit import edit_run, edit_with_instruction
from seig.apps.export import FORMATS, export
from seig.apps.orbit import orbit
from seig.apps.relight import PRESETS, build_lighting, relight
from seig.apps.run import AppError, Run, load_run
from seig.apps.simulate import simulate
from seig.cli import app
from seig.context import Context

console = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

RUN_HELP = "A run directory (holding scene.py) or a run's thread id."
DB_HELP = "The run database, for thread ids (default: $SEIG_DB or runs/seig.sqlite)."


def _context(db: Optional[Path]) -> Context:
    ctx = Context()
    if db is not None:
        ctx.db_path = db
    return ctx


@contextmanager
def _clear_errors() -> Iterator[None]:
    """An AppError is the user's one-line answer and a non-zero exit, never a traceback."""
    try:
        yield
    except AppError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None


def _load(run: str, db: Optional[Path]) -> tuple[Run, Context]:
    ctx = _context(db)
    return load_run(run, ctx), ctx


@contextmanager
def _frame_progress(label: str) -> Iterator:
    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
    ) as progress:
        task = progress.add_task(label, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


@app.command("relight")
def relight_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    preset: Optional[str] = typer.Option(None, help=f"One of: {', '.join(PRESETS)}."),
    sun_direction: Optional[str] = typer.Option(None, help="AZ,EL in degrees (azimuth from +X counter-clockwise)."),
    sun_color: Optional[str] = typer.Option(None, help="Hex colour, e.g. #ffd7a0."),
    sun_strength: Optional[float] = typer.Option(None, help="Sun strength in W/m^2."),
    area: Optional[list[str]] = typer.Option(
        None, help="X,Y,Z,WATTS[,SIZE][,#HEX]: an area light aimed at the origin (repeatable)."
    ),
    world_color: Optional[str] = typer.Option(None, help="Background/world colour as hex."),
    size: Optional[int] = typer.Option(None, min=8, max=2048, help="Long side of the render (default: the run's)."),
    samples: Optional[int] = typer.Option(None, min=1, max=1024, help="Cycles samples (default: the run's)."),
    out: Optional[Path] = typer.Option(None, help="Output directory (default: the run directory)."),
    db: Optional[Path] = typer.Option(None, help=DB_HELP),
) -> None:
    """Relight the scene: writes relit_<name>.png and the editable relit_<name>.py."""
    with _clear_errors():
        name, lighting = build_lighting(
            preset,
            sun_direction=sun_direction,
            sun_color=sun_color,
            sun_strength=sun_strength,
            areas=area,
            world_color=world_color,
        )
        loaded, ctx = _load(run, db)
        with err.status(f"rendering with {name} lighting"):
            result = relight(loaded, name, lighting, out_dir=out, long_side=size, samples=samples, ctx=ctx)
    console.print(f"[green]relit[/] {result.image}\n[green]program[/] {result.program}")


def _free_text_edit(run: Run, instruction: str, model: Optional[str], base_url: Optional[str], ctx: Context) -> None:
    def show(event: dict) -> None:
        if event["type"] == "round":
            record = event["record"]
            err.print(f"round {record['round']}: " + (f"[red]{record['error'][:120]}[/]" if record.get("error") else "rendered"))

    with err.status(f"editing: {instruction}"):
        finished = edit_with_instruction(run, instruction, model=model, base_url=base_url, ctx=ctx, on_event=show)
    if finished:
        console.print(f"[green]edited[/] {run.scene_py}")
    else:
        console.print(f"waiting for approval; continue with [bold]seig resume {run.thread_id}[/]")


@app.command("edit")
def edit_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    instruction: Optional[str] = typer.Argument(None, help="A free-text edit (needs a VLM --model)."),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="OBJECT.PROPERTY=VALUE, e.g. Sphere.location.x=-1.2 or Sphere.material.metallic=1 (repeatable)."
    ),
    model: Optional[str] = typer.Option(None, help="VLM for free-text edits, e.g. openai:gpt-4o (default: the run's)."),
    base_url: Optional[str] = typer.Option(None, help="OpenAI-compatible server for --model."),
    size: Optional[int] = typer.Option(None, min=8, max=2048, help="Long side of the re-render (default: the run's)."),
    samples: Optional[int] = typer.Option(None, min=1, max=1024, help="Cycles samples (default: the run's)."),
    db: Optional[Path] = typer.Option(None, help=DB_HELP),
) -> None:
    """Edit the scene program: offline with --set, or in free text with a VLM."""
    with _clear_errors():
        if instruction and set_:
            raise AppError("give either --set assignments or a free-text instruction, not both")
        loaded, ctx = _load(run, db)
        if instruction:
            _free_text_edit(loaded, instruction, model, base_url, ctx)
            return
        with err.status("applying and checking the edit in Blender"):
            result = edit_run(loaded, set_ or [], long_side=size, samples=samples, ctx=ctx)
    for label, method in result.methods:
        how = "literal rewritten" if method == "literal" else "edit block appended"
        console.print(f"[green]set[/] {label}  [dim]({how})[/]")
    console.print(f"[green]program[/] {result.program}  [dim](previous: {result.previous})[/]\n[green]render[/] {result.image}")
    if result.warning:
        err.print(f"[yellow]warning:[/] {result.warning}")
    if result.checkpoint_id:
        console.print(f"[green]checkpoint[/] {result.checkpoint_id}  [dim](undo: seig history / seig fork)[/]")


@app.command("simulate")
def simulate_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    frames: int = typer.Option(120, min=2, max=2000, help="Frames to simulate (24 per second)."),
    drop: float = typer.Option(0.0, min=0.0, max=100.0, help="Lift the objects this far first, so they fall."),
    step: int = typer.Option(2, min=1, help="Render every STEP-th frame into the GIF."),
    size: int = typer.Option(192, min=8, max=2048, help="Long side of the GIF frames."),
    samples: int = typer.Option(8, min=1, max=1024, help="Cycles samples per frame."),
    out: Optional[Path] = typer.Option(None, help="Output directory (default: the run directory)."),
    db: Optional[Path] = typer.Option(None, help=DB_HELP),
) -> None:
    """Rigid-body physics: bake it and write simulation.gif and simulation.blend."""
    with _clear_errors():
        loaded, ctx = _load(run, db)
        with _frame_progress("simulating and rendering") as on_progress:
            result = simulate(
                loaded, frames=frames, drop=drop, step=step, long_side=size, samples=samples, out_dir=out, ctx=ctx,
                on_progress=on_progress,
            )
    for name, body in result.objects.items():
        console.print(f"{name}: {body['shape'].lower()}, {body['mass']:g} kg, z {body['z'][0]:.2f} -> {body['z'][-1]:.2f}")
    console.print(f"[green]animation[/] {result.gif}\n[green]baked scene[/] {result.blend}")


@app.command("orbit")
def orbit_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    frames: int = typer.Option(24, min=2, max=720, help="Views around the scene."),
    degrees: float = typer.Option(360.0, help="How far to swing the camera."),
    size: int = typer.Option(192, min=8, max=2048, help="Long side of the GIF frames."),
    samples: int = typer.Option(8, min=1, max=1024, help="Cycles samples per frame."),
    out: Optional[Path] = typer.Option(None, help="Output directory (default: the run directory)."),
    db: Optional[Path] = typer.Option(None, help=DB_HELP),
) -> None:
    """A turntable of new views around the scene, as orbit.gif."""
    with _clear_errors():
        loaded, ctx = _load(run, db)
        with _frame_progress("rendering views") as on_progress:
            result = orbit(
                loaded, frames=frames, degrees=degrees, long_side=size, samples=samples, out_dir=out, ctx=ctx,
                on_progress=on_progress,
            )
    console.print(f"[green]orbit[/] {result.gif}  [dim]({result.frames} views)[/]")


@app.command("export")
def export_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    format: str = typer.Option("glb", "--format", help=f"One of: {', '.join(FORMATS)}."),
    out: Optional[Path] = typer.Option(None, help="Output file (default: scene.<ext> in the run directory)."),
    db: Optional[Path] = typer.Option(None, help=DB_HELP),
) -> None:
    """Export the scene as glTF binary, USD or .blend."""
    with _clear_errors():
        loaded, ctx = _load(run, db)
        with err.status(f"exporting {format}"):
            path = export(loaded, format, out=out, ctx=ctx)
    console.print(f"[green]exported[/] {path}")
