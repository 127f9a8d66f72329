"""`seig bench`: the fidelity benchmark on generated scenes with known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from seig.bench.generator import SUITES, SceneLoadError, load_suite, suite_of
from seig.bench.runner import BenchOptions, run_benchmark
from seig.cli import app
from seig.cli.reconstruct import MODEL_HELP, check_model, fail
from seig.context import Context
from seig.state.state import RunSettings
from seig.tools.executor import close_shared_executors

console = Console(highlight=False)


def parse_seeds(text: str) -> list[int]:
    """'1000-1004' or '1000,1003,1010'; anything else is a clear error."""
    try:
        if "-" in text.strip("-"):
            low, high = (int(part) for part in text.split("-", 1))
            seeds = list(range(low, high + 1))
        else:
            seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        fail(f"--seeds takes a range like 1000-1004 or a list like 1000,1003; got '{text}'")
    if not seeds:
        fail(f"--seeds names no scenes: '{text}'")
    return seeds


def _stopped_message(results: Path, earlier: int | None) -> str:
    """Where the finished runs are; an earlier bench's table (modified at ``earlier``, in ns) is not this one's.

    Comparing against the file's own earlier stamp, not the clock, holds on
    file systems with coarse or skewed modification times.
    """
    if results.exists() and results.stat().st_mtime_ns != earlier:
        return f"stopped; the runs finished so far are in {results.parent / 'report.md'} and {results}"
    return "stopped before the first run finished; this bench wrote no results"


def _reused_suite(scenes: Path, seeds: list[int] | None) -> str | None:
    """The suite that rendered an earlier bench's targets: reconstructing them again runs with its rounds and loop renders, not smoke's."""
    try:
        return suite_of(load_suite(scenes, seeds))
    except SceneLoadError as exc:
        fail(str(exc))


@app.command()
def bench(
    suite: Optional[str] = typer.Option(None, help=f"Scene suite: {', '.join(SUITES)} (default: smoke, or the suite whose targets --reuse-scenes reuses)."),
    model: str = typer.Option("classical", help=MODEL_HELP),
    base_url: Optional[str] = typer.Option(None, help="OpenAI-compatible server (vLLM, Ollama)."),
    mode: str = typer.Option("both", help="staged, monolithic, or both (same budget each)."),
    out: Path = typer.Option(Path("bench"), "--out", "-o", help="Directory for scenes, runs, results.csv, report.md, fidelity.png."),
    resolution: Optional[int] = typer.Option(None, help="Side of the target images (default: the suite's)."),
    seeds: Optional[str] = typer.Option(None, help="Scene seeds instead of the suite's, e.g. 1000-1004 or 1000,1007."),
    max_rounds: Optional[int] = typer.Option(None, help="Cap every stage's round budget (monolithic gets the sum); default 2 for smoke, none for standard."),
    loop_resolution: Optional[int] = typer.Option(None, help="Long side of loop renders, in pixels (default 64 for smoke, 128 for standard)."),
    loop_samples: int = typer.Option(16, help="Cycles samples of loop renders."),
    photos: Optional[bool] = typer.Option(None, "--photos/--no-photos", help="Also reconstruct scikit-image's sample photos (default: on for standard)."),
    reuse_scenes: Optional[Path] = typer.Option(
        None, help="Reconstruct the scenes an earlier bench rendered (its --out folder) instead of rendering new targets: compares code versions or models on the very same pictures."
    ),
) -> None:
    """Reconstruct generated scenes, score them against their ground truth, and report."""
    if reuse_scenes is not None and resolution is not None:
        fail("--resolution cannot change targets that --reuse-scenes reuses; leave it out")
    chosen_seeds = parse_seeds(seeds) if seeds else None
    if suite is None:
        suite = (_reused_suite(reuse_scenes, chosen_seeds) if reuse_scenes is not None else None) or "smoke"
    if suite not in SUITES:
        fail(f"--suite must be one of {', '.join(SUITES)}; got '{suite}'")
    modes = {"both": ("staged", "monolithic"), "staged": ("staged",), "monolithic": ("monolithic",)}.get(mode)
    if modes is None:
        fail(f"--mode must be staged, monolithic or both; got '{mode}'")
    if resolution is not None and not 16 <= resolution <= 2048:
        fail(f"--resolution must be between 16 and 2048 px; got {resolution}")
    if max_rounds is not None and max_rounds < 1:
        fail(f"--max-rounds must be at least 1; got {max_rounds}")
    if (loop_resolution is not None and loop_resolution < 16) or loop_samples < 1:
        fail("--loop-resolution must be at least 16 px and --loop-samples at least 1")
    ctx = Context()
    check_model(RunSettings(model=model, base_url=base_url), ctx)
    options = BenchOptions(
        suite=suite,
        model=model,
        modes=modes,
        out=out,
        resolution=resolution,
        seeds=chosen_seeds,
        max_rounds=max_rounds,
        loop_resolution=loop_resolution,
        loop_samples=loop_samples,
        photos=suite == "standard" if photos is None else photos,
        base_url=base_url,
        reuse_scenes=reuse_scenes,
    )
    results = out / "results.csv"
    earlier = results.stat().st_mtime_ns if results.exists() else None
    try:
        result = run_benchmark(options, ctx, progress=console.print)
    except SceneLoadError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        console.print(f"\n{_stopped_message(results, earlier)}")
        raise
    finally:
        close_shared_executors()
    console.print(f"\nwrote {result.report_path}, {result.csv_path} and {result.plot_path}")
