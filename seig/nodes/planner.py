"""Planner node: reads the photo once and writes the plan every stage works from."""

from __future__ import annotations

import time

from langgraph.runtime import Runtime

from seig.context import Context
from seig.nodes.resources import backend_for, emit, target_path
from seig.state.state import SeigState, StageStart


def plan(state: SeigState, runtime: Runtime[Context]) -> dict:
    emit(node="planner", stage=state.stage, round=0, message="reading the photo")
    start = time.perf_counter()
    result = backend_for(state.settings, runtime.context).plan(target_path(state), state.settings)
    return {
        "plan": result.plan,
        "backend_state": result.backend_state,
        "plan_tokens": result.tokens,
        "plan_seconds": round(time.perf_counter() - start, 2),
        "stage_start": StageStart(backend_state=result.backend_state),
    }
