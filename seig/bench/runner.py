"""The fidelity benchmark: reconstruct generated scenes (and a few real photos) and score them.

Every reconstruction goes through the engine API (``seig.runs.reconstruct``),
exactly as a user's run would, into its own checkpoint database under the
output directory. Results are written as a CSV of every figure, a markdown
report with per-mode means against the project's targets, and a chart of
fidelity against renders spent for staged and monolithic runs.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from seig.bench.generator import SceneCase, generate_suite, load_suite
from seig.bench.plots import line_chart
from seig.bench.scoring import SEEN_SHARE, SceneScore, score_program
from seig.context import Context
from seig.state.state import RunSettings
from seig.tools.executor import shared_executor
from seig.tools.metrics import score_images
from seig.tools.program import extract_program

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
PHOTO_SIDE = 256
# (label, column, comparison, threshold) for the staged mode on the standard suite.
TARGETS = (
    ("mean PSNR (dB)", "psnr", ">=", 28.0),
    ("mean SSIM", "ssim", ">=", 0.93),
    ("mean foreground IoU", "iou", ">=", 0.85),
    ("exact object count (share of scenes)", "count_exact", ">=", 0.80),
    ("wall time per scene (s)", "seconds", "<=", 90.0),
)
# How each suite runs by default: smoke is sized for CI (a few minutes on two cores), standard is the real thing.
SUITE_RUNS: dict[str, dict] = {
    "smoke": {"max_rounds": 2, "loop_resolution": 64},
    "standard": {"max_rounds": None, "loop_resolution": 128},
}
COLUMNS = (
    "scene", "seed", "mode", "objects_true", "objects_found", "objects_seen", "psnr", "ssim", "lpips", "iou", "position_error",
    "size_error", "color_error", "camera_height_error", "camera_tilt_error", "camera_lens_error",
    "light_direction_error", "renders", "rounds", "seconds", "stage_seconds", "error",
)


@dataclass
class BenchOptions:
    suite: str
    model: str = "classical"
    modes: tuple[str, ...] = ("staged", "monolithic")
    out: Path = Path("bench")
    resolution: int | None = None
    seeds: list[int] | None = None
    max_rounds: int | None = None  # None: the suite's default
    loop_resolution: int | None = None  # None: the suite's default
    loop_samples: int = 16
    photos: bool = False
    base_url: str | None = None
    reuse_scenes: Path | None = None  # an earlier bench's scenes, reconstructed again instead of rendering new targets


@dataclass
class BenchResult:
    rows: list[dict] = field(default_factory=list)
    photo_rows: list[dict] = field(default_factory=list)
    curves: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    csv_path: Path | None = None
    report_path: Path | None = None
    plot_path: Path | None = None


def run_settings(options: BenchOptions, mode: str, final_resolution: int, final_samples: int) -> RunSettings:
    """The same budgets for every mode: monolithic gets the sum of the stage budgets in one stage."""
    defaults = SUITE_RUNS.get(options.suite, {})
    max_rounds = options.max_rounds or defaults.get("max_rounds")
    loop_resolution = options.loop_resolution or defaults.get("loop_resolution", 128)
    budgets = dict(RunSettings().budgets)
    if max_rounds is not None:
        budgets = {stage: min(rounds, max_rounds) for stage, rounds in budgets.items()}
    return RunSettings(
        model=options.model,
        base_url=options.base_url,
        mode=mode,
        budgets=budgets,
        loop_resolution=min(loop_resolution, final_resolution),
        loop_samples=options.loop_samples,
        final_resolution=final_resolution,
        final_samples=final_samples,
    )


def fidelity_curve(report: dict) -> list[tuple[float, float]]:
    """(renders spent so far, best loop PSNR so far) after each scored round of a run."""
    points, spent, best = [], 0, None
    for record in report.get("rounds", []):
        spent += record.get("renders", 0)
        scores = record.get("scores")
        if scores and scores.get("psnr") is not None:
            best = scores["psnr"] if best is None else max(best, scores["psnr"])
        if best is not None:
            points.append((spent, best))
    return points


def mean_curve(curves: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """The mean over runs of best-so-far PSNR at each render count; a finished run keeps its last value.

    It starts where every run has its first score, so each point averages the same runs.
    """
    curves = [c for c in curves if c]
    if not curves:
        return []
    start = max(curve[0][0] for curve in curves)
    grid = sorted({x for curve in curves for x, _ in curve if x >= start})
    return [(float(x), float(np.mean([max(y for cx, y in curve if cx <= x) for curve in curves]))) for x in grid]


def _reconstruct(image: Path, run_dir: Path, settings: RunSettings, ctx: Context, thread_id: str) -> tuple[dict | None, str | None, float]:
    from seig.runs import reconstruct

    start = time.perf_counter()
    try:
        report = reconstruct(image, run_dir, settings, ctx, thread_id=thread_id)
    except Exception as exc:  # one failed scene is a row with an error, not the end of the benchmark
        return None, f"{type(exc).__name__}: {exc}", time.perf_counter() - start
    return report, None, time.perf_counter() - start


def _stage_seconds(report: dict | None) -> dict[str, float]:
    """Seconds reading the photo, then per stage: where a run's time went."""
    if report is None:
        return {}
    return {"plan": report.get("plan_seconds", 0.0)} | {stage["stage"]: stage["seconds"] for stage in report.get("stages", [])}


def _row(case: SceneCase, mode: str, score: SceneScore, report: dict | None, seconds: float, error: str | None) -> dict:
    figures = score.as_dict()
    totals = (report or {}).get("totals", {})
    row = {column: figures.get(column) for column in COLUMNS if column in figures}
    row.update(
        scene=case.directory.name,
        seed=case.seed,
        mode=mode,
        renders=totals.get("renders"),
        rounds=totals.get("rounds"),
        seconds=round(seconds, 2),
        stage_seconds=_stage_seconds(report),
        seen=figures["seen"],
        error=error or score.error,
    )
    return row


def bench_scene(case: SceneCase, mode: str, options: BenchOptions, ctx: Context, tag: str) -> tuple[dict, list]:
    """Reconstruct one generated scene in one mode and score it; returns the row and its fidelity curve."""
    run_dir = options.out / "runs" / mode / case.directory.name
    settings = run_settings(options, mode, case.resolution, case.samples)
    report, error, seconds = _reconstruct(case.target_path, run_dir, settings, ctx, f"bench-{tag}-{mode}-{case.seed}")
    score = SceneScore(objects_true=len(case.truth["objects"]))
    scene_py = run_dir / "scene.py"
    if report is not None and scene_py.exists():
        program = extract_program(scene_py.read_text())
        score = score_program(case, program, run_dir / "score", executor=shared_executor(**ctx.executor_options()), lpips_weights=ctx.lpips_weights)
    elif error is None:
        error = "the run wrote no scene.py"
    return _row(case, mode, score, report, seconds, error), fidelity_curve(report or {})


def photo_targets(out_dir: Path) -> list[Path]:
    """scikit-image's sample photos, scaled to PHOTO_SIDE on the long side, as PNG files."""
    import skimage.data

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in PHOTOS:
        image = Image.fromarray(getattr(skimage.data, name)())
        image.thumbnail((PHOTO_SIDE, PHOTO_SIDE), Image.LANCZOS)
        path = out_dir / f"{name}.png"
        image.save(path)
        paths.append(path)
    return paths


def bench_photo(photo: Path, mode: str, options: BenchOptions, ctx: Context, tag: str) -> dict:
    run_dir = options.out / "photos" / mode / photo.stem
    settings = run_settings(options, mode, PHOTO_SIDE, 32)
    report, error, seconds = _reconstruct(photo, run_dir, settings, ctx, f"bench-{tag}-{mode}-{photo.stem}")
    row = {"photo": photo.stem, "mode": mode, "psnr": None, "ssim": None, "seconds": round(seconds, 2), "error": error}
    final = run_dir / "final.png"
    if report is not None and final.exists():
        scores = score_images(photo, final)
        row.update(psnr=scores.psnr, ssim=scores.ssim, renders=report.get("totals", {}).get("renders"))
    return row


def run_benchmark(options: BenchOptions, ctx: Context | None = None, progress: Callable[[str], None] = print) -> BenchResult:
    """Generate the suite (or load an earlier bench's scenes), reconstruct every scene in every mode, score, and write CSV, report and chart."""
    reused = load_suite(options.reuse_scenes, options.seeds) if options.reuse_scenes is not None else None  # checked before anything is written
    options.out.mkdir(parents=True, exist_ok=True)
    ctx = replace(ctx or Context(), db_path=options.out / "bench.sqlite")
    tag = time.strftime("%Y%m%d%H%M%S")
    cases = reused if reused is not None else generate_suite(
        options.suite,
        options.out / "scenes",
        resolution=options.resolution,
        seeds=options.seeds,
        executor=shared_executor(**ctx.executor_options()),
    )
    result = BenchResult()
    curves: dict[str, list] = {mode: [] for mode in options.modes}

    def write_so_far() -> None:
        """Outputs after every run, so a bench stopped part way keeps the scenes it finished."""
        result.curves = {mode: mean_curve(c) for mode, c in curves.items()}
        write_outputs(result, options)

    for case in cases:
        for mode in options.modes:
            row, curve = bench_scene(case, mode, options, ctx, tag)
            result.rows.append(row)
            curves[mode].append(curve)
            write_so_far()
            progress(_progress_line(row))
    if options.photos:
        for photo in photo_targets(options.out / "photos" / "targets"):
            for mode in options.modes:
                row = bench_photo(photo, mode, options, ctx, tag)
                result.photo_rows.append(row)
                write_so_far()
                progress(f"photo {row['photo']} {mode}: PSNR {_fmt(row['psnr'])} SSIM {_fmt(row['ssim'], 3)}")
    write_so_far()
    return result


def _progress_line(row: dict) -> str:
    text = (
        f"{row['scene']} {row['mode']}: PSNR {_fmt(row['psnr'])} SSIM {_fmt(row['ssim'], 3)} IoU {_fmt(row['iou'], 3)} "
        f"objects {_fmt(row['objects_found'], 0)}/{row['objects_true']} in {row['seconds']:.1f} s"
    )
    return text + (f"  ({row['error']})" if row.get("error") else "")


# -- outputs -----------------------------------------------------------------


def _fmt(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def summarize(rows: list[dict]) -> dict:
    """Means of every figure over the scenes of one mode (a failed run counts as PSNR/SSIM/IoU missing)."""

    def mean(key: str) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return float(np.mean(values)) if values else None

    counted = [r for r in rows if r.get("objects_found") is not None]
    stages = dict.fromkeys(stage for r in rows for stage in r.get("stage_seconds") or {})
    return {
        "stage_seconds": {stage: float(np.mean([r["stage_seconds"][stage] for r in rows if stage in (r.get("stage_seconds") or {})])) for stage in stages},
        "scenes": len(rows),
        "failed": sum(1 for r in rows if r.get("psnr") is None),
        "count_exact": (sum(r["objects_found"] == r["objects_true"] for r in counted) / len(rows)) if rows else None,
        **{
            key: mean(key)
            for key in ("psnr", "ssim", "lpips", "iou", "position_error", "size_error", "color_error",
                        "camera_height_error", "camera_tilt_error", "camera_lens_error", "light_direction_error",
                        "renders", "seconds")
        },
    }


def seen_by_kind(rows: list[dict]) -> dict[str, tuple[int, int]]:
    """True objects seen and in view, by finish, then by shape, then all together."""
    items = [item for r in rows for item in r.get("seen") or []]
    tally: dict[str, tuple[int, int]] = {}
    for key in ("finish", "shape"):
        for kind in sorted({item[key] for item in items}):
            group = [item["seen"] for item in items if item[key] == kind]
            tally[kind] = (sum(group), len(group))
    if items:
        tally["all"] = (sum(item["seen"] for item in items), len(items))
    return tally


def _table(header: list[str], lines: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(out)


def markdown_report(result: BenchResult, options: BenchOptions) -> str:
    by_mode = {mode: [r for r in result.rows if r["mode"] == mode] for mode in options.modes}
    sums = {mode: summarize(rows) for mode, rows in by_mode.items()}
    parts = [
        f"# seig bench: suite `{options.suite}`, model `{options.model}`",
        "",
        f"{len(result.rows) // max(len(options.modes), 1)} scenes; modes: {', '.join(options.modes)}."
        + (f" Targets reused from `{options.reuse_scenes}`." if options.reuse_scenes is not None else ""),
        "",
        "## Means per mode",
        "",
        _table(
            ["mode", "scenes", "failed", "PSNR", "SSIM", "LPIPS", "IoU", "exact count", "position err (m)",
             "size err (rel)", "colour err", "camera height err (m)", "camera tilt err (°)", "lens err (mm)",
             "key light err (°)", "renders", "s / scene"],
            [
                [mode, str(s["scenes"]), str(s["failed"]), _fmt(s["psnr"]), _fmt(s["ssim"], 3), _fmt(s["lpips"], 3),
                 _fmt(s["iou"], 3), _fmt(s["count_exact"] and s["count_exact"] * 100, 0) + " %",
                 _fmt(s["position_error"]), _fmt(s["size_error"]), _fmt(s["color_error"]),
                 _fmt(s["camera_height_error"]), _fmt(s["camera_tilt_error"], 1), _fmt(s["camera_lens_error"], 1),
                 _fmt(s["light_direction_error"], 1), _fmt(s["renders"], 1),
                 _fmt(s["seconds"], 1)]
                for mode, s in sums.items()
            ],
        ),
    ]
    stages = list(dict.fromkeys(stage for s in sums.values() for stage in s["stage_seconds"]))
    if stages:
        parts += [
            "",
            "## Seconds per stage (mean over scenes)",
            "",
            _table(["mode", *stages], [[mode, *(_fmt(s["stage_seconds"].get(stage), 1) for stage in stages)] for mode, s in sums.items()]),
        ]
    tallies = {mode: seen_by_kind(rows) for mode, rows in by_mode.items()}
    kinds = list(dict.fromkeys(kind for tally in tallies.values() for kind in tally))
    if kinds:
        parts += [
            "",
            f"## True objects the final render shows (at least {SEEN_SHARE:.0%} of their pixels covered), by finish and shape",
            "",
            _table(["mode", *kinds], [[mode, *(f"{tally[k][0]}/{tally[k][1]}" if k in tally else "–" for k in kinds)] for mode, tally in tallies.items()]),
        ]
    if "staged" in sums:
        lines = []
        for label, key, op, threshold in TARGETS:
            value = sums["staged"][key]
            met = value is not None and (value >= threshold if op == ">=" else value <= threshold)
            lines.append([label, f"{op} {threshold:g}", _fmt(value, 3), "yes" if met else "no"])
        if "monolithic" in sums and sums["staged"]["psnr"] is not None and sums["monolithic"]["psnr"] is not None:
            gain = sums["staged"]["psnr"] - sums["monolithic"]["psnr"]
            lines.append(["staged minus monolithic PSNR (dB)", ">= 2", _fmt(gain), "yes" if gain >= 2 else "no"])
        parts += ["", "## Targets (staged mode)", "", _table(["target", "wanted", "measured", "met"], lines)]
    parts += [
        "",
        "## Per scene",
        "",
        _table(
            ["scene", "mode", "objects", "PSNR", "SSIM", "IoU", "renders", "s", "error"],
            [
                [r["scene"], r["mode"], f"{r['objects_found'] if r['objects_found'] is not None else '–'}/{r['objects_true']}",
                 _fmt(r["psnr"]), _fmt(r["ssim"], 3), _fmt(r["iou"], 3), str(r["renders"] or "–"), _fmt(r["seconds"], 1),
                 (r["error"] or "")[:80].replace("|", "/")]
                for r in result.rows
            ],
        ),
    ]
    if result.photo_rows:
        parts += [
            "",
            "## Real photographs (scikit-image samples)",
            "",
            _table(
                ["photo", "mode", "PSNR", "SSIM", "renders", "s", "error"],
                [[r["photo"], r["mode"], _fmt(r["psnr"]), _fmt(r["ssim"], 3), str(r.get("renders") or "–"), _fmt(r["seconds"], 1),
                  (r["error"] or "")[:80].replace("|", "/")] for r in result.photo_rows],
            ),
        ]
    parts += ["", "![fidelity against renders](fidelity.png)", ""]
    return "\n".join(parts)


def write_outputs(result: BenchResult, options: BenchOptions) -> None:
    """results.csv, photos.csv, report.md, results.json and fidelity.png in the output directory."""
    out = options.out
    result.csv_path = out / "results.csv"
    with result.csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({**row, "stage_seconds": " ".join(f"{k}={v:g}" for k, v in (row.get("stage_seconds") or {}).items())} for row in result.rows)
    if result.photo_rows:
        with (out / "photos.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["photo", "mode", "psnr", "ssim", "renders", "seconds", "error"], extrasaction="ignore")
            writer.writeheader()
            writer.writerows(result.photo_rows)
    result.plot_path = line_chart(
        result.curves,
        out / "fidelity.png",
        title=f"{options.suite} suite: best PSNR so far vs renders spent",
        xlabel="renders spent",
        ylabel="PSNR (dB)",
    )
    result.report_path = out / "report.md"
    result.report_path.write_text(markdown_report(result, options))
    (out / "results.json").write_text(
        json.dumps({"rows": result.rows, "photos": result.photo_rows, "curves": result.curves}, indent=1) + "\n"
    )
