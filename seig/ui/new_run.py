"""The new-run form: a photo (uploaded or shipped), a model, a mode, budgets and an approval policy."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from seig import runs
from seig.tools.images import BadImage, load_photo
from seig.ui import jobs, session
from seig.ui.inputs import PHOTO_TYPES, build_settings, example_images, missing_key, runs_root, save_upload
from seig.ui.widgets import budget_inputs, model_picker

APPROVAL_CHOICES = {
    "never": "Never: run to the end",
    "stages": "After every stage",
    "final": "Before the final render",
}


def _photo(root: Path) -> Path | None:
    upload = st.file_uploader("Photo", type=PHOTO_TYPES, key="new-upload")
    if upload is not None:
        path = save_upload(upload.name, upload.getvalue(), root)
        load_photo(path)  # refuse a broken photo now, not after the run has started
        return path
    examples = {path.name: path for path in example_images()}
    if not examples:
        return None
    choice = st.selectbox("…or a shipped example", ["(none)", *examples], key="new-example")
    return examples.get(choice)


def show_new_run_form() -> None:
    st.header("New run")
    ctx = session.context_for()
    root = runs_root(ctx.db_path)
    problems: list[str] = []
    try:
        image = _photo(root)
    except BadImage as exc:
        image, problems = None, [str(exc)]
    if image is not None:
        st.image(str(image), caption=image.name, width=240)
    try:
        model, base_url, key = model_picker("new")
    except ValueError as exc:
        (model, base_url, key), problems = ("classical", None, None), [*problems, str(exc)]
    mode = st.radio("Mode", ["staged", "monolithic"], horizontal=True, key="new-mode")
    approve = st.selectbox("Ask for approval", list(APPROVAL_CHOICES), format_func=APPROVAL_CHOICES.__getitem__, key="new-approve")
    st.caption("Rounds per stage (a monolithic run spends their sum on one program)")
    budgets = budget_inputs("new")
    with st.expander("Render sizes"):
        left, right = st.columns(2)
        loop_resolution = left.number_input("Loop resolution (px)", 16, 1024, 128, key="new-loop-res")
        loop_samples = right.number_input("Loop samples", 1, 1024, 16, key="new-loop-samples")
        final_resolution = left.number_input("Final resolution (px)", 16, 4096, 384, key="new-final-res")
        final_samples = right.number_input("Final samples", 1, 4096, 64, key="new-final-samples")
    if not st.button("Start run", type="primary", key="new-start"):
        for problem in problems:
            st.warning(problem)
        return
    problems += [p for p in [missing_key(model, base_url, key)] if p]
    if image is None and not problems:
        problems.append("Upload a photo or pick an example first.")
    if problems:
        for problem in problems:
            st.error(problem)
        return
    try:
        settings = build_settings(
            model=model, base_url=base_url, mode=mode, budgets=budgets, approve=approve,
            loop_resolution=int(loop_resolution), loop_samples=int(loop_samples),
            final_resolution=int(final_resolution), final_samples=int(final_samples),
        )
        thread_id = runs.new_thread_id(image)
        runs.start_run(image, root / thread_id, settings, ctx, thread_id=thread_id)
    except (BadImage, ValueError) as exc:
        st.error(f"Could not start the run: {exc}")
        return
    session.remember_key(thread_id, key)
    jobs.launch(thread_id, session.context_for(thread_id))
    session.open_run(thread_id)
    st.rerun()
