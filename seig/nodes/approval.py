"""Approval node: a person approves the stage, revises it with a comment, or redoes it.

The graph stops here with ``interrupt()``; the CLI or the Streamlit view
answers with ``Command(resume={"action": ..., "comment": ...})``.
"""

from __future__ import annotations

from langgraph.types import interrupt

from seig.state.state import SeigState

ACTIONS = ("approve", "revise", "redo")


def parse_decision(answer) -> tuple[str, str]:
    """Accept {'action': 'revise', 'comment': '...'} or a bare action string."""
    if isinstance(answer, str):
        action, comment = answer, ""
    elif isinstance(answer, dict):
        action, comment = str(answer.get("action", "")), str(answer.get("comment") or "")
    else:
        action, comment = "", ""
    action = action.strip().lower()
    if action not in ACTIONS:
        raise ValueError(f"approval answer must be one of {', '.join(ACTIONS)}; got {answer!r}")
    return action, comment.strip()


def approve(state: SeigState) -> dict:
    answer = interrupt(
        {
            "kind": "approval",
            "stage": state.stage,
            "stage_index": state.stage_index,
            "stages": state.stages,
            "round": state.round,
            "best_render": state.best_render,
            "scores": state.best_scores.model_dump() if state.best_scores else None,
            "todo": state.todo,
            "options": list(ACTIONS),
        }
    )
    action, comment = parse_decision(answer)
    if action == "approve":
        return {"decision": "approve"}
    if action == "revise":
        return {
            "decision": "revise",
            "human_feedback": comment or None,
            "extra_rounds": state.extra_rounds + 1,
            "stage_done": False,
        }
    start = state.stage_start
    return {
        "decision": "redo",
        "human_feedback": comment or None,
        "round": 0,
        "extra_rounds": 0,
        "stage_done": False,
        "todo": [],
        "last_error": None,
        "best_program": start.program,
        "best_score": None,  # judged against its own rounds, as when it first began
        "best_scores": None,
        "best_render": start.render,
        "backend_state": start.backend_state,
    }
