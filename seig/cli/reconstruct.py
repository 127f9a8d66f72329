"""`seig reconstruct`, `runs`, `resume`, `history`, `fork`: start runs and steer them from a terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt
from rich.table import Table

from seig.cli import app
from seig.context import Context
from seig.runs import RunNotFound, fork_run, get_run_state, list_runs, run_history, start_run, stream_run
from seig.state.state import STAGES, RunSettings
from seig.tools.images import BadImage

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

MODEL_HELP = "classical (offline, default), openai:<model>, google_genai:<model>, or a model name with --base-url."


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def parse_budgets(items: list[str] | None, base: dict[str, int] | None = None) -> dict[str, int]:
    """'geometry=4' items over the defaults; an unknown stage or a bad number is a clear error."""
    budgets = dict(base or RunSettings().budgets)
    for item in items or []:
        stage, _, value = item.partition("=")
        stage = stage.strip()
        if stage not in STAGES or not value.strip().isdigit():
            fail(f"--budget takes STAGE=N with STAGE one of {', '.join(STAGES)} and N a number of rounds, 0 or more; got '{item}'")
        budgets[stage] = int(value)
    if not any(budgets.values()):
        fail("every stage budget is 0; nothing to do")
    return budgets


def make_context(db: Optional[Path]) -> Context:
    ctx = Context()
    if db is not None:
        ctx.db_path = db
    return ctx


def _round_line(record: dict) -> str:
    scores = record.get("scores")
    head = f"[cyan]{record['stage']:>11}[/] round {record['round']}"
    if record.get("error"):
        return f"{head}  [red]failed[/]: {escape(record['error'][:140])}"
    verdict = record.get("verdict") or {}
    kept = "[green]kept[/]" if record.get("kept") else "[yellow]reverted[/]"
    seconds = sum(record.get("timings", {}).values())
    lp = f"  LPIPS {scores['lpips']:.3f}" if scores.get("lpips") is not None else ""
    todo = (verdict.get("todo") or [""])[0]
    todo = todo if len(todo) <= 60 else todo[:59] + "…"
    return (
        f"{head}  PSNR {scores['psnr']:5.2f} dB  SSIM {scores['ssim']:.3f}{lp}  {kept}  "
        f"{record.get('renders', 0):2d} renders {seconds:5.1f} s" + (f"  [dim]{escape(todo)}[/]" if todo else "")
    )


def ask_decision(payload: dict) -> dict:
    scores = payload.get("scores") or {}
    console.print(
        f"\n[bold]Stage '{payload['stage']}' finished[/] after {payload['round']} rounds"
        + (f" — PSNR {scores['psnr']:.2f} dB, SSIM {scores['ssim']:.3f}" if scores else "")
    )
    if payload.get("best_render"):
        console.print(f"  best render: {payload['best_render']}")
    action = Prompt.ask("Approve, revise with a comment, or redo the stage?", choices=["approve", "revise", "redo"], default="approve")
    comment = Prompt.ask("Comment for the coder") if action in ("revise", "redo") else ""
    return {"action": action, "comment": comment}


def follow(thread_id: str, ctx: Context, resume: dict | None = None) -> None:
    """Stream a run to its next stop, printing progress, asking for approval on a terminal."""
    while True:
        interrupt, finished = None, False
        with console.status("starting…") as status:
            for event in stream_run(thread_id, ctx, resume):
                kind = event["type"]
                if kind == "progress":
                    if "record" not in event:
                        status.update(f"[bold]{event.get('stage')}[/] round {event.get('round')}: {event.get('message', '')}")
                elif kind == "plan":
                    console.print(f"[bold]plan:[/] {event['plan'].get('summary', '')}")
                elif kind == "round":
                    console.print(_round_line(event["record"]))
                elif kind == "interrupt":
                    interrupt = event["payload"]
                elif kind == "done":
                    finished = True  # read the state once the stream has ended and the last checkpoint is written
                elif kind == "error":
                    err.print(f"[bold red]error:[/] {escape(event['message'])}")
                    err.print(f"The run is saved. Continue it with: seig resume {thread_id}")
                    raise typer.Exit(1)
        if finished:
            print_summary(thread_id, ctx)
        if interrupt is None:
            return
        if not sys.stdin.isatty():
            console.print(
                f"Waiting for approval of stage '{interrupt['stage']}'. Answer with:\n"
                f"  seig resume {thread_id} --approve | --revise 'comment' | --redo"
            )
            return
        resume = ask_decision(interrupt)


def print_summary(thread_id: str, ctx: Context) -> None:
    from seig.report import stage_summaries

    state = get_run_state(thread_id, ctx)
    table = Table(title=f"seig run {thread_id}")
    for column in ("stage", "rounds", "renders", "seconds", "best PSNR", "best SSIM", "LPIPS"):
        table.add_column(column, justify="right" if column != "stage" else "left")
    table.add_row("plan", "-", "-", f"{state.plan_seconds:.1f}", "-", "-", "-")
    for row in stage_summaries(state):
        table.add_row(
            row["stage"],
            str(row["rounds"]),
            str(row["renders"]),
            f"{row['seconds']:.1f}",
            f"{row['best_psnr']:.2f}" if row["best_psnr"] is not None else "-",
            f"{row['best_ssim']:.3f}" if row["best_ssim"] is not None else "-",
            f"{row['best_lpips']:.3f}" if row["best_lpips"] is not None else "n/a",
        )
    console.print(table)
    if state.status == "done":
        console.print(f"[bold green]done[/]: {state.run_dir}/scene.py  (final.png, comparison.png, report.json beside it)")
    else:
        err.print(f"[bold red]error:[/] the run's last checkpoint says '{state.status}'" + (f": {escape(state.error)}" if state.error else ""))
        err.print(f"Its files are in {state.run_dir}. Continue it with: seig resume {thread_id}")
        raise typer.Exit(1)


@app.command()
def reconstruct(
    image: Path = typer.Argument(..., help="The photograph to reconstruct."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for scene.py, renders and the report."),
    model: str = typer.Option("classical", help=MODEL_HELP),
    base_url: Optional[str] = typer.Option(None, help="OpenAI-compatible server (vLLM, Ollama)."),
    mode: str = typer.Option("staged", help="staged (default) or monolithic (the paper's one-stage baseline)."),
    approve: str = typer.Option("never", help="never | stages | final: when to stop for a person's approval."),
    budget: Optional[list[str]] = typer.Option(None, help="Rounds for a stage, e.g. --budget geometry=4 (repeatable)."),
    resolution: int = typer.Option(128, help="Long side of loop renders, in pixels."),
    samples: int = typer.Option(16, help="Cycles samples of loop renders."),
    final_resolution: int = typer.Option(384, help="Long side of the final render."),
    final_samples: int = typer.Option(64, help="Cycles samples of the final render."),
    thread: Optional[str] = typer.Option(None, help="Thread id for the run (default: made from the image name)."),
    db: Optional[Path] = typer.Option(None, help="Checkpoint database (default runs/seig.sqlite or $SEIG_DB)."),
) -> None:
    """Reconstruct IMAGE as an editable Blender program, stage by stage."""
    if mode not in ("staged", "monolithic"):
        fail(f"--mode must be staged or monolithic; got '{mode}'")
    if approve not in ("never", "stages", "final"):
        fail(f"--approve must be never, stages or final; got '{approve}'")
    if min(resolution, final_resolution) < 16 or min(samples, final_samples) < 1:
        fail("resolutions must be at least 16 px and samples at least 1")
    settings = RunSettings(
        model=model,
        base_url=base_url,
        mode=mode,
        approve=approve,
        budgets=parse_budgets(budget),
        loop_resolution=resolution,
        loop_samples=samples,
        final_resolution=final_resolution,
        final_samples=final_samples,
    )
    ctx = make_context(db)
    check_model(settings, ctx)
    try:
        thread_id = start_run(image, out, settings, ctx, thread)
    except BadImage as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))
    console.print(f"run [bold]{thread_id}[/] — {settings.mode}, model {settings.model}, stages {', '.join(settings.stage_plan())}")
    follow(thread_id, ctx)


def check_model(settings: RunSettings, ctx: Context) -> None:
    """Build the backend once up front so a missing key or a bad spec fails before any work."""
    from seig.models import make_backend
    from seig.models.errors import ModelConfigError

    try:
        make_backend(settings, ctx)
    except ModelConfigError as exc:
        fail(str(exc))


@app.command()
def runs(db: Optional[Path] = typer.Option(None, help="Checkpoint database.")) -> None:
    """List runs: thread id, image, model, stage reached, status."""
    table = Table()
    for column in ("thread", "image", "model", "mode", "stage", "round", "status", "best PSNR", "updated"):
        table.add_column(column)
    for run in list_runs(make_context(db)):
        table.add_row(
            run.thread_id,
            Path(run.image).name,
            run.model,
            run.mode,
            f"{run.stage} ({run.stage_index + 1}/{run.stages})",
            str(run.round),
            run.status,
            f"{run.best_psnr:.2f}" if run.best_psnr is not None else "-",
            run.updated[:19].replace("T", " "),
        )
    console.print(table)


@app.command()
def resume(
    thread: str = typer.Argument(..., help="The run's thread id (see `seig runs`)."),
    approve_: bool = typer.Option(False, "--approve", help="Approve the stage waiting for approval."),
    revise: Optional[str] = typer.Option(None, help="Revise the waiting stage with this comment for the coder."),
    redo: bool = typer.Option(False, help="Redo the waiting stage from where it started."),
    db: Optional[Path] = typer.Option(None, help="Checkpoint database."),
) -> None:
    """Continue a run from its last checkpoint (after a crash, an error or an approval stop)."""
    ctx = make_context(db)
    chosen = [a for a, on in (("approve", approve_), ("revise", revise is not None), ("redo", redo)) if on]
    if len(chosen) > 1:
        fail("give at most one of --approve, --revise, --redo")
    decision = {"action": chosen[0], "comment": revise or ""} if chosen else None
    try:
        state = get_run_state(thread, ctx)
    except RunNotFound as exc:
        fail(str(exc))
    check_model(state.settings, ctx)
    console.print(f"resuming [bold]{thread}[/] at stage {state.stage}, round {state.round}")
    follow(thread, ctx, decision)


@app.command()
def history(thread: str = typer.Argument(...), db: Optional[Path] = typer.Option(None, help="Checkpoint database.")) -> None:
    """List a run's checkpoints; any of them can be forked."""
    try:
        checkpoints = run_history(thread, make_context(db))
    except RunNotFound as exc:
        fail(str(exc))
    table = Table(title=thread)
    for column in ("checkpoint", "step", "stage", "round", "rounds done", "best PSNR", "next"):
        table.add_column(column)
    for c in checkpoints:
        table.add_row(
            c.checkpoint_id,
            str(c.step),
            c.stage,
            str(c.round),
            str(c.rounds_done),
            f"{c.best_psnr:.2f}" if c.best_psnr is not None else "-",
            ", ".join(c.next) or "(end)",
        )
    console.print(table)


@app.command()
def fork(
    thread: str = typer.Argument(...),
    checkpoint: str = typer.Option(..., help="Checkpoint id from `seig history`."),
    model: Optional[str] = typer.Option(None, help=MODEL_HELP),
    base_url: Optional[str] = typer.Option(None),
    approve: Optional[str] = typer.Option(None, help="never | stages | final"),
    budget: Optional[list[str]] = typer.Option(None, help="STAGE=N (repeatable)."),
    out: Optional[Path] = typer.Option(None, help="Directory of the new run (default: beside the original)."),
    run: bool = typer.Option(True, help="Run the fork right away."),
    db: Optional[Path] = typer.Option(None, help="Checkpoint database."),
) -> None:
    """Start a new run from any checkpoint of THREAD, optionally with another model or budget."""
    ctx = make_context(db)
    try:
        base = get_run_state(thread, ctx).settings
        overrides = {"model": model, "base_url": base_url, "approve": approve}
        if budget:
            overrides["budgets"] = parse_budgets(budget, base.budgets)
        new_id = fork_run(thread, checkpoint, ctx, out_dir=out, **overrides)
    except (RunNotFound, ValueError) as exc:
        fail(str(exc))
    console.print(f"forked [bold]{thread}[/] at {checkpoint} into [bold]{new_id}[/]")
    if run:
        check_model(get_run_state(new_id, ctx).settings, ctx)
        follow(new_id, ctx)
