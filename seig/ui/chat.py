"""The run as a conversation: the photo, the plan, then one message per stage round.

Everything here is drawn from the checkpointed state, so a reopened tab shows
exactly what a watching tab saw.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import streamlit as st

from seig.state.state import RoundRecord, SeigState

ROUND_IMAGE_WIDTH = 260


def read_program(path: str) -> str | None:
    try:
        return Path(path).read_text() if path else None
    except OSError:
        return None


def program_diff(previous: str | None, current: str, name: str) -> str:
    """A unified diff of the round's program against the previous round's (the whole program for the first)."""
    before = (previous or "").splitlines(keepends=True)
    after = current.splitlines(keepends=True)
    label = "(empty scene)" if previous is None else "previous round"
    diff = "".join(difflib.unified_diff(before, after, fromfile=label, tofile=name))
    return diff or "(no change from the previous round)"


def format_scores(record: RoundRecord) -> str:
    if record.scores is None:
        return "no render"
    text = f"PSNR {record.scores.psnr:.2f} dB · SSIM {record.scores.ssim:.3f}"
    if record.scores.lpips is not None:
        text += f" · LPIPS {record.scores.lpips:.3f}"
    return text


def show_opening(state: SeigState) -> None:
    settings = state.settings
    with st.chat_message("user"):
        target = Path(state.run_dir) / "target.png"
        if target.exists():
            st.image(str(target), caption="target photo", width=240)
        st.markdown(
            f"Reconstruct this photo with **{settings.model}**"
            + (f" at `{settings.base_url}`" if settings.base_url else "")
            + f", {settings.mode} mode, stages {', '.join(f'{s}×{settings.budget(s)}' for s in state.stages)},"
            f" approval: {settings.approve}."
        )
    if state.plan is not None:
        with st.chat_message("assistant"):
            st.markdown(f"**Plan.** {state.plan.summary}")
            if state.plan.objects:
                st.markdown("\n".join(f"- {o.name}: {o.shape} {o.color} {o.material}".rstrip() for o in state.plan.objects))


def show_round(record: RoundRecord, previous_program: str | None, target: Path) -> str | None:
    """One chat message for one round; returns the round's program for the next diff."""
    program = read_program(record.program_path)
    with st.chat_message("assistant"):
        verdict = record.verdict
        status = "kept" if record.kept else "reverted"
        if verdict is not None and verdict.passed:
            status += ", passed"
        st.markdown(f"**{record.stage} · round {record.round}** — {format_scores(record)} ({status})")
        left, right = st.columns(2)
        if target.exists():
            left.image(str(target), caption="target", width=ROUND_IMAGE_WIDTH)
        if record.render_path and Path(record.render_path).exists():
            right.image(record.render_path, caption=f"{record.stage} round {record.round}", width=ROUND_IMAGE_WIDTH)
        else:
            right.info("This round produced no render.")
        if record.error:
            st.error(f"The program failed: {record.error}")
        if verdict is not None and verdict.todo:
            st.markdown("**Verifier's todo**\n" + "\n".join(f"- {item}" for item in verdict.todo))
        if verdict is not None and verdict.notes:
            st.caption(verdict.notes)
        if record.feedback:
            st.caption("Feedback used: " + " | ".join(record.feedback))
        if program is not None:
            with st.expander("Code change", expanded=False):
                st.code(program_diff(previous_program, program, Path(record.program_path).name), language="diff")
    return program if program is not None else previous_program


def show_history(state: SeigState) -> None:
    target = Path(state.run_dir) / "target.png"
    previous = None
    for record in state.history:
        previous = show_round(record, previous, target)
