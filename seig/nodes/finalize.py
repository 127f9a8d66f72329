"""Finalize node: writes what the user came for — scene.py, scene.blend, final.png, comparison, report."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from langgraph.config import get_config
from langgraph.runtime import Runtime

from seig.context import Context
from seig.nodes.resources import emit, executor_for, final_render_spec, target_path
from seig.report import build_report, stage_summaries
from seig.state.state import SeigState
from seig.tools.images import comparison_image, contact_strip
from seig.tools.metrics import lpips_status, score_images
from seig.tools.program import standalone


def finalize(state: SeigState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    run_dir = Path(state.run_dir)
    thread_id = get_config().get("configurable", {}).get("thread_id")
    emit(node="finalize", stage=state.stage, round=state.round, message="final render")
    if not state.best_program:
        report = build_report(state, final={}, lpips_note=lpips_status(ctx.lpips_weights), thread_id=thread_id)
        (run_dir / "report.json").write_text(json.dumps(report, indent=2))
        return {"status": "failed", "error": "no round produced a program that ran; see report.json"}
    start = time.perf_counter()
    spec = final_render_spec(state)
    script = standalone(state.best_program, width=spec.width, height=spec.height, samples=spec.samples, title=thread_id or "")
    (run_dir / "scene.py").write_text(script)
    (run_dir / "program.py").write_text(state.best_program)
    result = executor_for(ctx).run(
        state.best_program, workdir=run_dir, blend_out=run_dir / "scene.blend", render=spec, render_out=run_dir / "final.png"
    )
    if not result.ok:
        return {"status": "failed", "error": f"the final render failed: {result.error}"}
    scores = score_images(target_path(state), run_dir / "final.png", ctx.lpips_weights)
    comparison_image(target_path(state), run_dir / "final.png", run_dir / "comparison.png", label=f"PSNR {scores.psnr:.1f} dB")
    strip = [("target", target_path(state))]
    strip += [(s["stage"], Path(s["best_render"])) for s in stage_summaries(state) if s["best_render"]]
    strip.append(("final", run_dir / "final.png"))
    contact_strip(strip, run_dir / "stages.png")
    shutil.rmtree(run_dir / "search", ignore_errors=True)
    final = {**scores.model_dump(), "seconds": round(time.perf_counter() - start, 2), "width": spec.width, "height": spec.height}
    report = build_report(state, final=final, lpips_note=lpips_status(ctx.lpips_weights), thread_id=thread_id)
    (run_dir / "report.json").write_text(json.dumps(report, indent=2))
    outputs = {
        name: str(run_dir / name)
        for name in ("scene.py", "scene.blend", "final.png", "comparison.png", "stages.png", "report.json", "target.png")
    }
    return {"status": "done", "outputs": outputs, "error": None}
