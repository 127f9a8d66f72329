"""Advance node: closes a stage and opens the next, remembering where it started for 'redo'.

The next stage starts from the best program so far, but is judged against its
own rounds only: an earlier stage may be drawn differently (grey blocks for the
scaffold), so its score is no bar for a fuller scene. Without this, a stage
whose rounds all score under the scaffold would be thrown away, and so would
every stage after it.

Rounds a stage did not need carry over to the next, so a staged run may spend
the whole budget it was given, as a monolithic run does.
"""

from __future__ import annotations

from seig.nodes.resources import emit
from seig.state.state import SeigState, StageStart


def advance(state: SeigState) -> dict:
    emit(node="advance", stage=state.stages[state.stage_index + 1], round=0, message="next stage")
    return {
        "stage_index": state.stage_index + 1,
        "round": 0,
        "extra_rounds": 0,
        "carried_rounds": state.unspent_rounds,
        "stage_done": False,
        "decision": None,
        "todo": [],
        "last_error": None,
        "best_score": None,
        "best_scores": None,
        "stage_start": StageStart(
            program=state.best_program,
            render=state.best_render,
            backend_state=state.backend_state,
        ),
    }
