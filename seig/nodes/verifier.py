"""Verifier node: scores the render, asks the backend for a verdict, keeps the best program.

A round that scores worse than the best of its stage is reverted, as a 3D
artist would undo: the next round starts again from the best program.
"""

from __future__ import annotations

import time
from pathlib import Path

from langgraph.runtime import Runtime

from seig.context import Context
from seig.models.base import VerifyRequest
from seig.nodes.resources import backend_for, emit, target_path
from seig.state.state import EDIT_STAGE, RoundRecord, Scores, SeigState, psnr_gain
from seig.tools.metrics import score_images, similarity


def rank(stage: str, scores: Scores | None, verdict_score: float) -> float | None:
    """How good a round is: closeness to the photo, except for an edit, where the photo shows the old scene."""
    if scores is None:
        return None
    return verdict_score if stage == EDIT_STAGE else similarity(scores)


def previous_gain(state: SeigState) -> float | None:
    """The gain of this stage's round before, so a verifier can ask for two small gains in a row."""
    last = state.history[-1] if state.history else None
    return last.gain if last is not None and last.stage == state.stage and last.round == state.round else None


def verify(state: SeigState, runtime: Runtime[Context]) -> dict:
    pending = state.pending
    round_no = state.round + 1
    emit(node="verifier", stage=state.stage, round=round_no, message="comparing with the photo")
    start = time.perf_counter()
    scores = None
    if pending.error is None and pending.render_path:
        scores = score_images(target_path(state), pending.render_path, runtime.context.lpips_weights)
    result = backend_for(state.settings, runtime.context).verify(
        VerifyRequest(
            stage=state.stage,
            round=round_no,
            budget=state.round_budget,
            target=target_path(state),
            render=Path(pending.render_path) if pending.render_path else None,
            error=pending.error,
            scores=scores,
            best_scores=state.best_scores,
            previous_gain=previous_gain(state),
            plan=state.plan,
            backend_state=pending.backend_state,
            settings=state.settings,
        )
    )
    verdict = result.verdict
    value = rank(state.stage, scores, verdict.score)
    kept = value is not None and (state.best_score is None or value > state.best_score)
    record = RoundRecord(
        stage=state.stage,
        round=round_no,
        program_path=pending.program_path,
        render_path=pending.render_path,
        scores=scores,
        verdict=verdict,
        error=pending.error,
        kept=kept,
        gain=psnr_gain(scores, state.best_scores),
        timings={**pending.timings, "verify": time.perf_counter() - start},
        renders=pending.renders,
        tokens=pending.tokens + result.tokens,
        feedback=pending.feedback,
    )
    update: dict = {
        "history": [record],
        "round": round_no,
        "pending": None,
        "todo": verdict.todo,
        "last_error": pending.error,
        "human_feedback": None,
        "stage_done": state.stage_ends(verdict.passed, round_no),
    }
    if kept:
        update.update(
            best_program=pending.program,
            best_score=value,
            best_scores=scores,
            best_render=pending.render_path,
            backend_state=pending.backend_state,
        )
    emit(node="verifier", stage=state.stage, round=round_no, record=record.model_dump(mode="json"))
    return update
