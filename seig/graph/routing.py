"""Routers: pure functions of state, so a fork made with ``update_state`` routes like the original."""

from __future__ import annotations

from typing import Literal

from seig.state.state import SeigState


def after_execute(state: SeigState) -> Literal["renderer", "verifier"]:
    """A program that failed has nothing to render; the verifier turns the error into feedback."""
    return "verifier" if state.pending is None or state.pending.error else "renderer"


def _leave_stage(state: SeigState) -> Literal["advance", "finalize"]:
    return "finalize" if state.is_last_stage else "advance"


def after_verify(state: SeigState) -> Literal["coder", "approval", "advance", "finalize"]:
    """Loop within the stage until the verifier passes or the budget ends; then ask or move on."""
    if not state.stage_done:
        return "coder"
    policy = state.settings.approve
    if policy == "stages" or (policy == "final" and state.is_last_stage):
        return "approval"
    return _leave_stage(state)


def after_approval(state: SeigState) -> Literal["coder", "advance", "finalize"]:
    if state.decision in ("revise", "redo"):
        return "coder"
    return _leave_stage(state)
