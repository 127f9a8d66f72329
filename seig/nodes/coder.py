"""Stage-coder node: writes the next program for the current stage, from the best one so far."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from langgraph.runtime import Runtime

from seig.context import Context
from seig.models.base import CodeRequest
from seig.nodes.resources import backend_for, emit, executor_for, loop_render_spec, round_stem, target_path
from seig.state.state import PendingRound, SeigState


def _search_renderer(state: SeigState, ctx: Context, stem: Path):
    """Render-and-compare for backends that search: candidates go through the same sandbox."""
    executor = executor_for(ctx)
    spec = loop_render_spec(state)
    folder = stem.parent.parent / "search"
    folder.mkdir(parents=True, exist_ok=True)
    counter = itertools.count()

    def render(program: str):
        out = folder / f"{stem.name}_{next(counter)}.png"
        result = executor.run(program, render=spec, render_out=out)
        return (Path(result.render_path) if result.ok else None), result.error

    return render


def write_code(state: SeigState, runtime: Runtime[Context]) -> dict:
    round_no = state.round + 1
    emit(node="coder", stage=state.stage, round=round_no, budget=state.round_budget, message="writing code")
    stem = round_stem(state, round_no)
    start = time.perf_counter()
    request = CodeRequest(
        stage=state.stage,
        round=round_no,
        budget=state.round_budget,
        target=target_path(state),
        plan=state.plan,
        program=state.best_program,
        todo=list(state.todo),
        error=state.last_error,
        human_feedback=state.human_feedback,
        last_render=Path(state.best_render) if state.best_render else None,
        backend_state=dict(state.backend_state),
        settings=state.settings,
        run_dir=Path(state.run_dir),
        render=_search_renderer(state, runtime.context, stem),
    )
    result = backend_for(state.settings, runtime.context).write_code(request)
    program_path = stem.with_suffix(".py")
    program_path.write_text(result.program)
    feedback = list(state.todo) + ([f"human: {state.human_feedback}"] if state.human_feedback else [])
    return {
        "pending": PendingRound(
            program=result.program,
            program_path=str(program_path),
            timings={"code": time.perf_counter() - start},
            renders=result.renders,
            tokens=result.tokens,
            feedback=feedback,
            backend_state=result.backend_state or dict(state.backend_state),
        )
    }
