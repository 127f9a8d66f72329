"""Things to do with a finished reconstruction: relight, edit, orbit, simulate, export (from ``seig.apps``).

Each action runs the scene program in the sandboxed executor and writes into
the run directory, so results shown here survive a reload like everything else.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from seig.apps.edit import edit_run
from seig.apps.export import FORMATS, export
from seig.apps.orbit import orbit
from seig.apps.relight import PRESETS, build_lighting, relight
from seig.apps.run import AppError, Run, load_run
from seig.apps.simulate import simulate
from seig.context import Context
from seig.state.state import SeigState

PREVIEW_SIDE = 192
PREVIEW_SAMPLES = 8


def _attempt(what: str, action):
    """Run an app action under a spinner; its one-line failure becomes a message on the page."""
    with st.spinner(f"{what}…"):
        try:
            return action()
        except AppError as exc:
            st.error(str(exc))
            return None


def _download(path: Path, key: str) -> None:
    st.download_button(f"Download {path.name}", path.read_bytes(), file_name=path.name, key=key)


def show_relight(run: Run, ctx: Context) -> None:
    preset = st.selectbox("Lighting preset", list(PRESETS), key=f"relight-preset-{run.dir}")
    if st.button("Relight", key=f"relight-go-{run.dir}"):
        name, lighting = build_lighting(preset)
        _attempt(f"Relighting with {name}", lambda: relight(run, name, lighting, long_side=PREVIEW_SIDE, samples=PREVIEW_SAMPLES, ctx=ctx))
    for image in sorted(run.dir.glob("relit_*.png")):
        st.image(str(image), caption=image.stem, width=PREVIEW_SIDE * 2)
        if image.with_suffix(".py").exists():
            _download(image.with_suffix(".py"), key=f"dl-{image}")


def show_edit(run: Run, ctx: Context) -> None:
    """Structured edits, one OBJECT.PROPERTY=VALUE per line; each becomes a checkpoint of the run."""
    text = st.text_area(
        "Edits (one per line)", placeholder="Sphere.location.x=-1.2\nSphere.material.metallic=1", key=f"edit-text-{run.dir}"
    )
    if st.button("Apply edits", key=f"edit-go-{run.dir}"):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        result = _attempt(
            "Editing the scene", lambda: edit_run(run, lines, long_side=PREVIEW_SIDE, samples=PREVIEW_SAMPLES, ctx=ctx)
        )
        if result is not None:
            st.success("; ".join(f"{assignment} ({how})" for assignment, how in result.methods))
            if result.warning:
                st.warning(result.warning)
            st.image(str(result.image), caption="after the edit", width=PREVIEW_SIDE * 2)
            _download(result.program, key=f"dl-edit-{result.program}")


def show_orbit(run: Run, ctx: Context) -> None:
    frames = st.number_input("Frames", 4, 120, 12, key=f"orbit-frames-{run.dir}")
    if st.button("Render turntable", key=f"orbit-go-{run.dir}"):
        _attempt("Rendering the turntable", lambda: orbit(run, frames=int(frames), long_side=PREVIEW_SIDE, samples=PREVIEW_SAMPLES, ctx=ctx))
    gif = run.dir / "orbit.gif"
    if gif.exists():
        st.image(str(gif), caption="orbit.gif")
        _download(gif, key=f"dl-{gif}")


def show_simulate(run: Run, ctx: Context) -> None:
    frames = st.number_input("Frames", 12, 480, 48, key=f"sim-frames-{run.dir}")
    drop = st.number_input("Drop height (m)", 0.0, 10.0, 0.5, key=f"sim-drop-{run.dir}")
    if st.button("Simulate physics", key=f"sim-go-{run.dir}"):
        _attempt("Baking rigid bodies", lambda: simulate(run, frames=int(frames), drop=float(drop), long_side=PREVIEW_SIDE, samples=PREVIEW_SAMPLES, step=4, ctx=ctx))
    gif = run.dir / "simulation.gif"
    if gif.exists():
        st.image(str(gif), caption="simulation.gif")
        _download(gif, key=f"dl-{gif}")


def show_export(run: Run, ctx: Context) -> None:
    fmt = st.selectbox("Format", list(FORMATS), key=f"export-fmt-{run.dir}")
    if st.button("Export", key=f"export-go-{run.dir}"):
        path = _attempt(f"Exporting {fmt}", lambda: export(run, fmt, ctx=ctx))
        if path is not None:
            _download(path, key=f"dl-export-{path}")


def show_apps(state: SeigState, ctx: Context) -> None:
    if state.status != "done":
        st.info("Relight, edit, orbit, simulate and export become available when the run is done.")
        return
    try:
        run = load_run(Path(state.run_dir), ctx)
    except AppError as exc:
        st.error(str(exc))
        return
    apps = {"Relight": show_relight, "Edit": show_edit, "Orbit": show_orbit, "Simulate": show_simulate, "Export": show_export}
    choice = st.radio("App", list(apps), horizontal=True, key=f"app-{run.dir}")
    apps[choice](run, ctx)
