"""One run: the live chat, the approval controls, the results and the fork form.

The chat is a fragment that redraws itself every second while the run's job
is alive, so the page stays responsive and the progress line keeps ticking
while Blender renders. Everything else is read from the checkpointer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from seig import runs
from seig.context import Context
from seig.state.state import SeigState
from seig.ui import chat, jobs, session
from seig.ui.apps_panel import show_apps
from seig.ui.fork import show_fork
from seig.ui.inputs import missing_key

POLL_SECONDS = 1.0
FINAL_WIDTH = 384


@dataclass
class RunView:
    """A run as stored: its state, where it stopped, and the approval question if it waits for one."""

    state: SeigState
    status: str
    question: dict | None


def load_view(thread_id: str, ctx: Context) -> RunView:
    snapshot = runs.read_snapshot(thread_id, ctx)
    question = snapshot.interrupts[0].value if snapshot.interrupts else None
    return RunView(SeigState.model_validate(snapshot.values), runs.run_status(snapshot), question)


def show_run(thread_id: str) -> None:
    ctx = session.context_for(thread_id)
    try:
        view = load_view(thread_id, ctx)
    except runs.RunNotFound as exc:
        st.error(f"{exc}. Pick a run in the sidebar or start a new one.")
        return
    st.header(Path(view.state.image_path).name)
    st.caption(f"run `{thread_id}` · {view.state.settings.model} · {view.state.settings.mode} · {view.state.run_dir}")
    job = jobs.current(thread_id, ctx)
    live = job is not None and job.active
    chat_tab, results_tab, apps_tab, history_tab = st.tabs(["Chat", "Results", "Apps", "History & fork"])
    with chat_tab:
        st.fragment(_live_chat, run_every=POLL_SECONDS if live else None)(thread_id, live)
    with results_tab:
        show_results(view.state)
    with apps_tab:
        show_apps(view.state, ctx)
    with history_tab:
        show_fork(thread_id, view.state)


def _live_chat(thread_id: str, was_live: bool) -> None:
    ctx = session.context_for(thread_id)
    job = jobs.current(thread_id, ctx)
    live = job is not None and job.active
    if was_live and not live:
        st.rerun()  # the run stopped: redraw the whole page (status, sidebar, results, controls)
    view = load_view(thread_id, ctx)
    chat.show_opening(view.state)
    chat.show_history(view.state)
    if live:
        show_progress(job, view.state)
        return
    if job is not None and job.error and view.status not in ("done", "failed"):
        with st.chat_message("assistant"):
            st.error(job.error)
    if view.status == "waiting":
        show_approval(thread_id, view)
    elif view.status == "stopped":
        show_continue(thread_id, view)
    elif view.status == "failed":
        with st.chat_message("assistant"):
            st.error(f"The run failed: {view.state.error or 'see report.json'}")
            st.caption("Fork an earlier checkpoint from the History & fork tab to try again.")
    elif view.status == "done":
        with st.chat_message("assistant"):
            st.success("Done. The final render, the comparison and the downloads are in the Results tab.")
            final = view.state.outputs.get("comparison.png")
            if final and Path(final).exists():
                st.image(final, caption="target · final render · difference")


def show_progress(job: jobs.Job, state: SeigState) -> None:
    """Stage, round and step of the running job; the seconds counter shows it is alive during renders."""
    event = job.progress or {}
    stages = state.stages
    stage = event.get("stage") or state.stage
    index = stages.index(stage) if stage in stages else state.stage_index
    budget = max(1, state.round_budget if stage == state.stage else state.settings.budget(stage))
    round_no = int(event.get("round") or 0)
    fraction = min(1.0, (index + min(round_no, budget) / budget) / max(1, len(stages)))
    step = event.get("message") or event.get("node") or "starting"
    st.progress(
        fraction,
        text=f"Stage {index + 1}/{len(stages)} **{stage}** · round {round_no}/{budget} · {step} · {job.seconds_in_step():.0f} s",
    )


def _key_field(thread_id: str, state: SeigState) -> bool:
    """Ask again for a hosted model's key when this tab does not hold one; True when the run may go on."""
    settings = state.settings
    typed = st.session_state.get(session.KEYS, {}).get(thread_id)
    problem = missing_key(settings.model, settings.base_url, typed)
    if problem is None:
        return True
    key = st.text_input("API key for this run", type="password", key=f"key-{thread_id}")
    if key.strip():
        session.remember_key(thread_id, key)
        return True
    st.warning(problem)
    return False


def _go(thread_id: str, resume: dict | None = None) -> None:
    jobs.launch(thread_id, session.context_for(thread_id), resume=resume)
    st.rerun()


def show_approval(thread_id: str, view: RunView) -> None:
    question = view.question or {}
    # Keys name the question, so a click on a question another tab already answered matches nothing.
    asked = f"{thread_id}-{question.get('stage')}-{len(view.state.history)}"
    with st.chat_message("assistant"):
        stage = question.get("stage", view.state.stage)
        scores = question.get("scores") or {}
        summary = f" — best PSNR {scores['psnr']:.2f} dB" if scores.get("psnr") is not None else ""
        st.markdown(f"**The {stage} stage is ready for review**{summary}. Approve it, revise it with a comment, or redo it.")
        render = question.get("best_render")
        if render and Path(render).exists():
            st.image(render, caption=f"best {stage} render", width=240)
        if not _key_field(thread_id, view.state):
            return
        approve_col, redo_col, _ = st.columns([1, 1, 4])
        if approve_col.button("Approve", type="primary", key=f"approve-{asked}"):
            _go(thread_id, {"action": "approve", "comment": ""})
        if redo_col.button("Redo stage", key=f"redo-{asked}"):
            _go(thread_id, {"action": "redo", "comment": ""})
        comment = st.text_area("What should the coder change?", key=f"comment-{asked}")
        if st.button("Revise", key=f"revise-{asked}"):
            if comment.strip():
                _go(thread_id, {"action": "revise", "comment": comment.strip()})
            st.warning("Write what to change before asking for a revision.")


def show_continue(thread_id: str, view: RunView) -> None:
    with st.chat_message("assistant"):
        st.markdown("This run is paused at its last checkpoint.")
        if _key_field(thread_id, view.state) and st.button("Continue", type="primary", key=f"continue-{thread_id}"):
            _go(thread_id)


def show_results(state: SeigState) -> None:
    outputs = state.outputs
    if not outputs:
        st.info("The final render, the comparison and the downloads appear here when the run finishes.")
        return
    for name, width in (("final.png", FINAL_WIDTH), ("comparison.png", "content"), ("stages.png", "content")):
        path = outputs.get(name)
        if path and Path(path).exists():
            st.image(path, caption=name, width=width)
    columns = st.columns(3)
    for column, (name, mime) in zip(
        columns, [("scene.py", "text/x-python"), ("scene.blend", "application/octet-stream"), ("report.json", "application/json")]
    ):
        path = outputs.get(name)
        if path and Path(path).exists():
            column.download_button(f"Download {name}", Path(path).read_bytes(), file_name=name, mime=mime, key=f"dl-{name}")
