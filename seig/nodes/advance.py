"""Advance node: closes a stage and opens the next, remembering where it started for 'redo'."""

from __future__ import annotations

from seig.nodes.resources import emit
from seig.state.state import SeigState, StageStart


def advance(state: SeigState) -> dict:
    emit(node="advance", stage=state.stages[state.stage_index + 1], round=0, message="next stage")
    return {
        "stage_index": state.stage_index + 1,
        "round": 0,
        "extra_rounds": 0,
        "stage_done": False,
        "decision": None,
        "todo": [],
        "last_error": None,
        "stage_start": StageStart(
            program=state.best_program,
            score=state.best_score,
            scores=state.best_scores,
            render=state.best_render,
            backend_state=state.backend_state,
        ),
    }
