"""The run report: what every stage and round did, as JSON for tools and a table for people."""

from __future__ import annotations

from collections import defaultdict

from seig.state.state import SeigState


def stage_summaries(state: SeigState) -> list[dict]:
    """Per stage: rounds run, best scores, renders and seconds spent, tokens used."""
    rows: dict[str, dict] = defaultdict(lambda: {"rounds": 0, "renders": 0, "seconds": 0.0, "tokens": 0, "best": None})
    best = None  # the best kept round so far: a stage whose rounds were all reverted ends where the last one did
    for record in state.history:
        row = rows[record.stage]
        row["rounds"] += 1
        row["renders"] += record.renders
        row["seconds"] += sum(record.timings.values())
        row["tokens"] += record.tokens
        if record.kept and record.scores is not None:
            best = record
        row["best"] = best
    summaries = []
    for stage in state.stages + [s for s in rows if s not in state.stages]:
        if stage not in rows:
            continue
        row = rows[stage]
        best = row["best"]
        summaries.append(
            {
                "stage": stage,
                "rounds": row["rounds"],
                "renders": row["renders"],
                "seconds": round(row["seconds"], 2),
                "tokens": row["tokens"],
                "best_psnr": best.scores.psnr if best else None,
                "best_ssim": best.scores.ssim if best else None,
                "best_lpips": best.scores.lpips if best else None,
                "best_render": best.render_path if best else None,
            }
        )
    return summaries


def build_report(state: SeigState, *, final: dict, lpips_note: str | None, thread_id: str | None) -> dict:
    return {
        "thread_id": thread_id,
        "image": state.image_path,
        "settings": state.settings.model_dump(),
        "plan": state.plan.model_dump() if state.plan else None,
        "plan_tokens": state.plan_tokens,
        "plan_seconds": state.plan_seconds,
        "lpips": lpips_note or "available",
        "final": final,
        "stages": stage_summaries(state),
        "rounds": [r.model_dump(mode="json") for r in state.history],
        "totals": {
            "rounds": len(state.history),
            "renders": sum(r.renders for r in state.history) + 1,
            "seconds": round(state.plan_seconds + sum(sum(r.timings.values()) for r in state.history), 2),
            "tokens": state.plan_tokens + sum(r.tokens for r in state.history),
        },
    }
