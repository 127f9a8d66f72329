"""A reconstructed run as the apps see it: its directory, its scene program, its render size.

Every app starts from ``load_run`` and renders or saves through ``run_program``,
so the untrusted scene program only ever runs in the sandboxed executor.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from seig.context import Context
from seig.tools.executor import JobResult, RenderSpec, shared_executor
from seig.tools.program import RENDER_MARK, extract_program, standalone


class AppError(Exception):
    """Bad input or a failed step; the message is one line for the user."""


@dataclass
class Run:
    dir: Path
    thread_id: str | None
    program: str
    width: int
    height: int
    samples: int

    @property
    def scene_py(self) -> Path:
        return self.dir / "scene.py"

    def size(self, long_side: int) -> tuple[int, int]:
        """The run's aspect ratio at a given long side."""
        scale = long_side / max(self.width, self.height)
        return max(8, round(self.width * scale)), max(8, round(self.height * scale))

    def standalone(self, program: str) -> str:
        return standalone(program, width=self.width, height=self.height, samples=self.samples)


def _resolve_dir(run: str, ctx: Context | None) -> tuple[Path, str | None]:
    """A directory as is; anything else is looked up as a thread id in the checkpointer."""
    path = Path(run).expanduser()
    if path.is_dir():
        return path, None
    if path.exists():
        raise AppError(f"{run}: not a directory; give a run directory or a thread id")
    from seig.runs import RunNotFound, resolve_run_dir

    try:
        return Path(resolve_run_dir(run, ctx)), run
    except RunNotFound as exc:
        raise AppError(str(exc)) from None


def _footer_value(script: str, name: str, default: int) -> int:
    footer = script.split(RENDER_MARK, 1)[1] if RENDER_MARK in script else ""
    match = re.search(rf"{re.escape(name)}\s*=\s*(\d+)", footer)
    return int(match.group(1)) if match else default


def load_run(run: str | Path, ctx: Context | None = None) -> Run:
    """The run at a directory or thread id, with the scene program from its scene.py."""
    run_dir, thread_id = _resolve_dir(str(run), ctx)
    script_path = run_dir / "scene.py"
    if not script_path.is_file():
        raise AppError(f"{run_dir}: no scene.py here; is this a seig run directory?")
    script = script_path.read_text(encoding="utf-8")
    program = extract_program(script)
    if not program.strip():
        raise AppError(f"{script_path}: the scene program is empty")
    if thread_id is None and (run_dir / "report.json").is_file():
        try:
            thread_id = json.loads((run_dir / "report.json").read_text()).get("thread_id")
        except (ValueError, AttributeError):
            thread_id = None
    return Run(
        dir=run_dir,
        thread_id=thread_id,
        program=program,
        width=_footer_value(script, "resolution_x", 384),
        height=_footer_value(script, "resolution_y", 384),
        samples=_footer_value(script, "samples", 64),
    )


def run_program(
    program: str,
    ctx: Context | None = None,
    *,
    blend_out: Path | None = None,
    render: RenderSpec | None = None,
    render_out: Path | None = None,
    what: str = "the scene program",
) -> JobResult:
    """Run a program in the sandbox; a failure becomes an AppError naming what failed."""
    ctx = ctx or Context()
    result = shared_executor(**ctx.executor_options()).run(
        program, blend_out=blend_out, render=render, render_out=render_out
    )
    if not result.ok:
        raise AppError(f"{what} failed: {result.error}")
    return result
