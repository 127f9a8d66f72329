"""A run's checkpoint history, and forking any checkpoint into a new run."""

from __future__ import annotations

import streamlit as st

from seig import runs
from seig.state.state import SeigState
from seig.ui import jobs, session
from seig.ui.inputs import missing_key
from seig.ui.widgets import budget_inputs, model_picker


def _label(point: runs.CheckpointInfo) -> str:
    psnr = f", best PSNR {point.best_psnr:.2f}" if point.best_psnr is not None else ""
    upcoming = ", ".join(point.next) or "end"
    return f"step {point.step}: {point.stage} round {point.round} ({point.rounds_done} rounds done{psnr}) → {upcoming}"


def show_fork(thread_id: str, state: SeigState) -> None:
    ctx = session.context_for(thread_id)
    history = runs.run_history(thread_id, ctx)
    if not history:
        st.info("This run has no checkpoints yet.")
        return
    # A markdown table, not st.dataframe: pyarrow is not usable next to numpy<2 here.
    rows = ["| step | stage | round | rounds done | best PSNR | next |", "|---:|---|---:|---:|---:|---|"]
    rows += [
        f"| {p.step} | {p.stage} | {p.round} | {p.rounds_done} | "
        f"{'' if p.best_psnr is None else f'{p.best_psnr:.2f}'} | {', '.join(p.next) or 'end'} |"
        for p in history
    ]
    with st.expander(f"All {len(history)} checkpoints", expanded=False):
        st.markdown("\n".join(rows))
    labels = {_label(p): p.checkpoint_id for p in history}
    choice = st.selectbox("Checkpoint to fork", list(labels), index=len(labels) - 1, key=f"fork-point-{thread_id}")
    overrides: dict = {}
    key = None
    problem = None
    if st.checkbox("Use another model or other budgets", key=f"fork-change-{thread_id}"):
        try:
            model, base_url, key = model_picker(f"fork-{thread_id}")
            overrides.update(model=model, base_url=base_url)
            problem = missing_key(model, base_url, key)
        except ValueError as exc:
            problem = str(exc)
        overrides["budgets"] = budget_inputs(f"fork-{thread_id}", state.settings.budgets)
    if not st.button("Fork into a new run", key=f"fork-go-{thread_id}"):
        return
    if problem:
        st.error(problem)
        return
    try:
        new_id = runs.fork_run(thread_id, labels[choice], ctx, **overrides)
    except (runs.RunNotFound, ValueError) as exc:
        st.error(f"Could not fork: {exc}")
        return
    session.remember_key(new_id, key or st.session_state.get(session.KEYS, {}).get(thread_id))
    jobs.launch(new_id, session.context_for(new_id))
    session.open_run(new_id)
    st.rerun()
