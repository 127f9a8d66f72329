"""What nodes share within one process: the model backend, the Blender executor, paths, progress.

Backends and the executor are cached per process so a chat client or a bpy
worker is built once per run, not once per node call.
"""

from __future__ import annotations

import threading
from pathlib import Path

from langgraph.config import get_stream_writer

from seig.context import Context
from seig.models.base import Backend
from seig.state.state import RunSettings, SeigState
from seig.tools.executor import BlenderExecutor, RenderSpec, shared_executor
from seig.tools.images import render_size

_backends: dict[tuple, Backend] = {}
_backends_lock = threading.Lock()


def backend_for(settings: RunSettings, ctx: Context) -> Backend:
    from seig.models import make_backend

    if ctx.chat_model is not None:
        return make_backend(settings, ctx)
    key = (settings.model, settings.base_url, ctx.api_key, ctx.model_retries)
    with _backends_lock:
        if key not in _backends:
            _backends[key] = make_backend(settings, ctx)
        return _backends[key]


def executor_for(ctx: Context) -> BlenderExecutor:
    return shared_executor(**ctx.executor_options())


def target_path(state: SeigState) -> Path:
    return Path(state.run_dir) / "target.png"


def round_stem(state: SeigState, round_no: int) -> Path:
    """rounds/02_materials_r3: sortable, and the same name when a killed round is redone."""
    folder = Path(state.run_dir) / "rounds"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{state.stage_index + 1:02d}_{state.stage}_r{round_no}"


def loop_render_spec(state: SeigState) -> RenderSpec:
    width, height = render_size(target_path(state), state.settings.loop_resolution)
    return RenderSpec(width=width, height=height, samples=state.settings.loop_samples, quick_denoise=True)


def final_render_spec(state: SeigState) -> RenderSpec:
    width, height = render_size(target_path(state), state.settings.final_resolution)
    return RenderSpec(width=width, height=height, samples=state.settings.final_samples)


def emit(**event) -> None:
    """Progress for whoever streams the graph (CLI, Streamlit); a no-op otherwise."""
    try:
        writer = get_stream_writer()
    except RuntimeError:
        return
    writer({"type": "progress", **event})
