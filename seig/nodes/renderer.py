"""Renderer node: renders the saved scene with Cycles at loop quality and a fixed seed."""

from __future__ import annotations

from pathlib import Path

from langgraph.runtime import Runtime

from seig.context import Context
from seig.nodes.resources import emit, executor_for, loop_render_spec
from seig.state.state import SeigState


def render(state: SeigState, runtime: Runtime[Context]) -> dict:
    pending = state.pending
    emit(node="renderer", stage=state.stage, round=state.round + 1, message="rendering")
    out = Path(pending.program_path).with_suffix(".png")
    result = executor_for(runtime.context).render(Path(pending.blend_path), out, loop_render_spec(state))
    timings = {**pending.timings, "render": result.seconds}
    return {
        "pending": pending.model_copy(
            update={
                "render_path": result.render_path if result.ok else None,
                "error": None if result.ok else result.error,
                "renders": pending.renders + 1,
                "timings": timings,
            }
        )
    }
