"""Executor node: runs the round's program in the sandbox and saves the scene it builds."""

from __future__ import annotations

from pathlib import Path

from langgraph.runtime import Runtime

from seig.context import Context
from seig.nodes.resources import emit, executor_for
from seig.state.state import SeigState


def execute(state: SeigState, runtime: Runtime[Context]) -> dict:
    pending = state.pending
    emit(node="executor", stage=state.stage, round=state.round + 1, message="running the program in Blender")
    blend = Path(pending.program_path).with_suffix(".blend")
    result = executor_for(runtime.context).run(pending.program, workdir=Path(state.run_dir), blend_out=blend)
    timings = {**pending.timings, "execute": result.seconds}
    return {
        "pending": pending.model_copy(
            update={"blend_path": result.blend_path if result.ok else None, "error": result.error, "timings": timings}
        )
    }
