"""The sidebar: every run in the checkpointer, with a thumbnail, its model, stage and status."""

from __future__ import annotations

import io
from pathlib import Path

import streamlit as st
from PIL import Image

from seig import runs
from seig.tools.images import file_version
from seig.ui import jobs, session

THUMB_SIDE = 96


@st.cache_data(max_entries=256, show_spinner=False)
def thumbnail(path: str, modified_ns: int, size_bytes: int) -> bytes:
    """A small PNG so a long run list does not ship full photos to the browser (the file's version keys the cache)."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((THUMB_SIDE, THUMB_SIDE))
        buffer = io.BytesIO()
        img.save(buffer, format="PNG")
        return buffer.getvalue()


def status_of(info: runs.RunInfo) -> str:
    """The stored status, or 'running' when this server is streaming the run right now."""
    job = jobs.current(info.thread_id, session.context_for(info.thread_id))
    return "running" if job is not None and job.active else info.status


def show_sidebar() -> None:
    st.title("seig studio")
    if st.button("New run", type="primary", key="sidebar-new", width="stretch"):
        session.open_run(None)
        st.rerun()
    ctx = session.context_for()
    all_runs = runs.list_runs(ctx)
    st.caption(f"{len(all_runs)} run(s) in {ctx.db_path}")
    current = session.selected_run()
    for info in all_runs:
        with st.container(border=True):
            picture, text = st.columns([1, 2])
            target = Path(info.run_dir) / "target.png"
            if target.exists():
                picture.image(thumbnail(*file_version(target)))
            marker = "▶ " if info.thread_id == current else ""
            text.markdown(f"{marker}**{Path(info.image).name}**")
            text.caption(f"{info.model} · {info.stage} ({info.stage_index + 1}/{info.stages}) · {status_of(info)}")
            if text.button("Open", key=f"open-{info.thread_id}", disabled=info.thread_id == current):
                session.open_run(info.thread_id)
                st.rerun()
