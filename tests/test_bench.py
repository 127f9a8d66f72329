"""The benchmark: generated scenes are deterministic, their masks match their parameters,
scoring tells a perfect reconstruction from a wrong one, and `seig bench` writes its outputs."""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from seig.bench.generator import KINDS, SceneCase, generate_scene, sample_truth, suite_of, write_program
from seig.bench.masks import decode_ids, id_colors, read_mask
from seig.bench.plots import COLORS
from seig.bench.runner import BenchOptions, fidelity_curve, mean_curve, run_benchmark
from seig.bench.scoring import score_program
from seig.cli import app
from seig.models.base import CodeResult, PlanResult, VerifyResult
from seig.state.state import Plan, Verdict
from seig.tools.executor import close_shared_executors
from seig.tools.policy import check_program


@pytest.fixture(scope="module", autouse=True)
def _close_workers():
    yield
    close_shared_executors()


def test_parameters_and_program_depend_only_on_the_seed():
    for seed in range(20):
        truth = sample_truth(seed)
        assert truth == sample_truth(seed)
        assert write_program(truth) == write_program(sample_truth(seed))
        assert check_program(write_program(truth)) == []
        assert 1 <= len(truth["objects"]) <= 8
    assert sample_truth(1) != sample_truth(2)
    assert write_program(sample_truth(1)) != write_program(sample_truth(2))
    shapes = {o["shape"] for seed in range(40) for o in sample_truth(seed)["objects"]}
    assert shapes == set(KINDS)
    lights = {light["type"] for seed in range(40) for light in sample_truth(seed)["lights"]}
    assert lights == {"SUN", "AREA", "POINT"}


def test_bad_generator_arguments_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="unknown object kinds: teapot"):
        sample_truth(1, kinds=("teapot",))
    with pytest.raises(ValueError, match="1 to 8 objects"):
        sample_truth(1, objects=9)


def test_id_colours_decode_back_to_their_ids():
    for count in (1, 7, 8, 30):
        colors = id_colors([f"o{i}" for i in range(count)])
        linear = np.array(list(colors.values()))
        encoded = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
        pixels = np.round(encoded * 255).astype(np.uint8)[None]
        assert decode_ids(pixels, count).tolist() == [list(range(1, count + 1))]
        assert decode_ids(np.zeros((1, 1, 3), np.uint8), count).tolist() == [[0]]


def test_same_seed_renders_the_same_scene(tmp_path):
    a = generate_scene(7, tmp_path / "a", resolution=32, samples=4)
    b = generate_scene(7, tmp_path / "b", resolution=32, samples=4)
    c = generate_scene(8, tmp_path / "c", resolution=32, samples=4)
    assert a.truth_path.read_text() == b.truth_path.read_text()
    assert a.program_path.read_text() == b.program_path.read_text()
    assert a.truth_path.read_text() != c.truth_path.read_text()
    assert np.array_equal(read_mask(a.mask_path), read_mask(b.mask_path))
    for case in (a, b, c):
        assert Image.open(case.target_path).size == (32, 32)
        assert all(len(o["dimensions"]) == 3 and min(o["dimensions"]) > 0 for o in case.truth["objects"])


def _project(camera: dict, point, size: int) -> tuple[int, int, float]:
    """Pixel (column, row) and depth of a world point seen by the truth camera (square image)."""
    rx, ry, rz = camera["rotation"]
    cx, sx, cy, sy, cz, sz = math.cos(rx), math.sin(rx), math.cos(ry), math.sin(ry), math.cos(rz), math.sin(rz)
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    local = (rot_z @ rot_y @ rot_x).T @ (np.asarray(point) - np.asarray(camera["location"]))
    depth = -local[2]
    scale = camera["lens"] / camera["sensor_width"] * size
    return int(size / 2 + scale * local[0] / depth), int(size / 2 - scale * local[1] / depth), depth


def test_masks_show_each_object_where_its_parameters_put_it(tmp_path):
    size = 64
    solid = ("cube", "sphere", "cylinder", "cone")
    for seed, count in ((3, 1), (11, 5), (19, 7)):
        case = generate_scene(seed, tmp_path / str(seed), resolution=size, samples=4, kinds=solid, objects=count)
        mask = read_mask(case.mask_path)
        objects = case.truth["objects"]
        assert mask.shape == (size, size)
        assert set(np.unique(mask)) <= set(range(len(objects) + 1))
        assert (mask == 0).any(), "the ground and the sky are background"
        projected = [_project(case.truth["camera"], obj["center"], size) for obj in objects]
        for index, (obj, (col, row, depth)) in enumerate(zip(objects, projected), start=1):
            assert 0 <= col < size and 0 <= row < size, f"seed {seed}: the camera does not frame {obj['name']}"
            seen = int(mask[row, col])
            assert seen != 0, f"seed {seed}: nothing at the centre of {obj['name']}"
            assert seen == index or projected[seen - 1][2] < depth, f"seed {seed}: {obj['name']} hidden by a farther object"
        if count == 1:
            assert set(np.unique(mask)) == {0, 1}


def _turned_and_shifted(truth: dict, angle: float, shift: tuple[float, float]) -> dict:
    """The whole scene (objects, lights, camera) turned about the vertical axis and moved: the same photo."""
    moved = copy.deepcopy(truth)
    c, s = math.cos(angle), math.sin(angle)
    for thing in moved["objects"] + moved["lights"] + [moved["camera"]]:
        x, y, z = thing["location"]
        thing["location"] = [c * x - s * y + shift[0], s * x + c * y + shift[1], z]
        thing["rotation"][2] += angle
    return moved


def test_a_perfect_reconstruction_scores_perfectly_and_a_wrong_one_does_not(tmp_path):
    case = generate_scene(11, tmp_path / "scene", resolution=48, samples=8, kinds=("cube", "sphere", "cone"), objects=4)
    perfect = score_program(case, case.program, tmp_path / "perfect")
    assert perfect.error is None
    assert perfect.psnr >= 50 and perfect.ssim > 0.999
    assert perfect.iou == 1.0
    assert perfect.objects_found == perfect.objects_true == 4 and perfect.count_error == 0
    assert perfect.position_error < 1e-6 and perfect.size_error < 1e-6 and perfect.color_error < 1e-6
    assert perfect.camera_height_error < 1e-6 and perfect.camera_tilt_error < 1e-3 and perfect.camera_lens_error == 0
    assert perfect.light_direction_error < 0.05
    assert [item["coverage"] for item in perfect.seen] == [1.0] * 4 and perfect.objects_seen == 4

    wrong = copy.deepcopy(case.truth)
    dropped = wrong["objects"].pop()
    wrong["objects"][0]["location"][0] += 0.6
    wrong["objects"][0]["base_color"] = [1.0 - v for v in wrong["objects"][0]["base_color"]]
    wrong["camera"]["lens"] *= 1.15
    key = wrong["lights"][0]
    key["rotation"][2] += math.pi / 2  # a quarter turn about the vertical: a sun or a lamp now lights from the side
    centre = np.mean([o["center"] for o in case.truth["objects"]], axis=0)
    x, y = key["location"][0] - centre[0], key["location"][1] - centre[1]
    key["location"][:2] = [centre[0] - y, centre[1] + x]
    worse = score_program(case, write_program(wrong), tmp_path / "wrong")
    assert worse.error is None
    assert worse.psnr < perfect.psnr - 5 and worse.ssim < perfect.ssim
    assert worse.iou < 0.95
    assert worse.objects_found == 3 and worse.count_error == 1
    assert dropped["name"] not in {m["truth"] for m in worse.matches}
    assert {item["name"]: item["seen"] for item in worse.seen}[dropped["name"]] is False and worse.objects_seen == 3
    assert worse.position_error > 0.1 and worse.color_error > 0.1
    assert worse.camera_lens_error == pytest.approx(case.truth["camera"]["lens"] * 0.15, abs=0.01)
    assert worse.light_direction_error > 20

    moved = score_program(case, write_program(_turned_and_shifted(case.truth, 0.7, (1.5, -2.0))), tmp_path / "moved")
    assert moved.psnr > 35 and moved.iou > 0.97, "the same scene about another origin looks the same"
    assert moved.position_error < 0.01 and moved.camera_height_error < 0.01 and moved.camera_tilt_error < 0.1
    assert moved.light_direction_error < 0.5

    broken = score_program(case, "import bpy\nraise ValueError('no scene')\n", tmp_path / "broken")
    assert broken.psnr is None and "no scene" in broken.error


def test_bench_rejects_bad_options_in_one_line():
    for args in (["--suite", "huge"], ["--mode", "sideways"], ["--seeds", "a-b"], ["--max-rounds", "0"]):
        proc = subprocess.run([sys.executable, "-m", "seig", "bench", *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr and "error" in proc.stderr.lower(), proc.stderr


@pytest.mark.slow
def test_smoke_suite_writes_table_csv_and_plot(tmp_path):
    out = tmp_path / "bench"
    command = [
        sys.executable, "-m", "seig", "bench", "--suite", "smoke", "--mode", "both", "--seeds", "1000",
        "--resolution", "32", "--max-rounds", "1", "--loop-resolution", "32", "--loop-samples", "4", "--out", str(out),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [(r["scene"], r["mode"]) for r in rows] == [("scene_1000", "staged"), ("scene_1000", "monolithic")]
    for row in rows:
        assert row["error"] == "", row["error"]
        assert 5 < float(row["psnr"]) <= 60 and 0 <= float(row["iou"]) <= 1
        assert int(row["renders"]) >= 1
    staged_stages = dict(part.split("=") for part in rows[0]["stage_seconds"].split())
    assert list(staged_stages) == ["plan", "scaffold", "geometry", "materials", "composition", "lighting"]
    assert all(float(v) > 0 for v in staged_stages.values())
    assert list(dict(part.split("=") for part in rows[1]["stage_seconds"].split())) == ["plan", "all"]
    report = (out / "report.md").read_text()
    assert "| staged |" in report and "| monolithic |" in report and "Targets" in report
    assert "Seconds per stage" in report
    with Image.open(out / "fidelity.png") as plot:
        assert plot.size == (640, 400)
        pixels = {tuple(p) for p in np.asarray(plot.convert("RGB")).reshape(-1, 3)}
    assert COLORS[0] in pixels and COLORS[1] in pixels, "both modes are drawn"
    curves = json.loads((out / "results.json").read_text())["curves"]
    assert curves["staged"] and curves["monolithic"]


class OracleBackend:
    """Writes the ground-truth program of one generated scene in every round: a perfect reconstruction."""

    name = "oracle"

    def __init__(self, program: str) -> None:
        self.program = program

    def plan(self, target, settings):
        return PlanResult(plan=Plan(summary="the generated scene"))

    def write_code(self, request):
        return CodeResult(program=self.program, renders=0)

    def verify(self, request):
        return VerifyResult(verdict=Verdict(passed=request.error is None, score=1.0 if request.error is None else 0.0))


@pytest.fixture
def oracle_bench(tmp_path, monkeypatch) -> BenchOptions:
    """Bench options for scene 1001 at 32 px, with an engine whose backend writes the true program."""
    import seig.models

    seed = 1001
    oracle = OracleBackend(write_program(sample_truth(seed)))
    monkeypatch.setattr(seig.models, "make_backend", lambda settings, ctx: oracle)
    return BenchOptions(
        suite="smoke", model="oracle", out=tmp_path / "out", resolution=32, seeds=[seed], max_rounds=1,
        loop_resolution=32, loop_samples=4,
    )


def test_runner_reconstructs_scores_and_reports_through_the_engine(oracle_bench):
    options = oracle_bench
    lines = []
    result = run_benchmark(options, progress=lines.append)
    assert [(r["mode"], r["error"]) for r in result.rows] == [("staged", None), ("monolithic", None)]
    for row in result.rows:
        assert row["psnr"] >= 50 and row["iou"] == 1.0 and row["objects_found"] == row["objects_true"]
        assert row["position_error"] < 1e-6 and row["camera_tilt_error"] < 1e-3
    assert len(lines) == 2 and "scene_1001 staged" in lines[0]
    assert result.curves["staged"] and result.curves["monolithic"]
    assert [r["mode"] for r in csv.DictReader(result.csv_path.open())] == ["staged", "monolithic"]
    report = result.report_path.read_text()
    assert "| staged | 1 | 0 |" in report and "exact object count" in report
    kinds = {item["shape"] for item in result.rows[0]["seen"]}
    assert f"{len(result.rows[0]['seen'])}/{len(result.rows[0]['seen'])} |" in report.split("True objects the final render shows")[1].split("\n\n##")[0]
    assert all(kind in report for kind in kinds) and result.rows[0]["objects_seen"] == result.rows[0]["objects_true"]
    assert result.plot_path.exists()


def test_a_bench_stopped_part_way_keeps_the_scenes_it_finished(oracle_bench):
    """An hour-long suite interrupted near its end must not lose the table of what it finished."""
    options = oracle_bench

    def stop_after_the_first_run(line: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_benchmark(options, progress=stop_after_the_first_run)
    rows = list(csv.DictReader((options.out / "results.csv").open()))
    assert [(r["scene"], r["mode"]) for r in rows] == [("scene_1001", "staged")] and float(rows[0]["psnr"]) >= 50
    assert "| staged | 1 | 0 |" in (options.out / "report.md").read_text()


def test_a_bench_can_reconstruct_an_earlier_benchs_targets_again(oracle_bench, monkeypatch):
    """--reuse-scenes: the same files are scored again, nothing is rendered anew, and the report says where they came from."""
    first = run_benchmark(oracle_bench, progress=lambda line: None)
    target = oracle_bench.out / "scenes" / "scene_1001" / "target.png"
    stamp = target.stat().st_mtime_ns

    def no_new_targets(*args, **kwargs):
        raise AssertionError("a bench reusing scenes rendered new targets")

    monkeypatch.setattr("seig.bench.runner.generate_suite", no_new_targets)
    again = replace(oracle_bench, out=oracle_bench.out.parent / "again", reuse_scenes=oracle_bench.out, resolution=None, seeds=None)
    second = run_benchmark(again, progress=lambda line: None)
    assert [(r["scene"], r["mode"]) for r in second.rows] == [(r["scene"], r["mode"]) for r in first.rows]
    assert [r["psnr"] for r in second.rows] == pytest.approx([r["psnr"] for r in first.rows], abs=0.01)
    assert all(r["psnr"] >= 50 and r["iou"] == 1.0 for r in second.rows)
    assert target.stat().st_mtime_ns == stamp and not (again.out / "scenes").exists()
    assert f"Targets reused from `{oracle_bench.out}`" in second.report_path.read_text()


def test_reusing_scenes_that_are_not_there_is_refused_in_one_line(tmp_path):
    """A wrong folder, a seed it lacks, an incomplete scene, or a new resolution for old targets: a clear error, nothing written."""
    (tmp_path / "scenes" / "scene_1000").mkdir(parents=True)
    cases = {
        "no folder of scenes": ["--reuse-scenes", str(tmp_path / "nowhere")],
        "no scene_<seed> folders": ["--reuse-scenes", str(tmp_path / "scenes" / "scene_1000")],
        "no scene for seed(s) 1005": ["--reuse-scenes", str(tmp_path), "--seeds", "1005"],
        "lacks scene.py, target.png, mask.png, truth.json": ["--reuse-scenes", str(tmp_path)],
        "--resolution cannot change": ["--reuse-scenes", str(tmp_path), "--resolution", "64"],
    }
    for message, args in cases.items():
        out = tmp_path / "out"
        proc = subprocess.run([sys.executable, "-m", "seig", "bench", "--no-photos", "--out", str(out), *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr and message in " ".join(proc.stderr.split()), proc.stderr
        assert not out.exists(), f"{message}: wrote {list(out.iterdir())}"


@pytest.mark.parametrize("finished_a_run", [False, True])
def test_a_stopped_bench_points_only_at_results_it_wrote(tmp_path, monkeypatch, finished_a_run):
    """Reusing --out leaves an earlier bench's table there; Ctrl-C before the first run must not offer it as this one's."""
    out = tmp_path / "bench"
    out.mkdir()
    results = out / "results.csv"
    results.write_text("scene,seed,mode\nscene_1000,1000,staged\n")
    an_hour_ago = time.time() - 3600
    os.utime(results, (an_hour_ago, an_hour_ago))

    def interrupted(options, ctx, progress):
        if finished_a_run:
            results.write_text("scene,seed,mode\nscene_1001,1001,staged\n")
        raise KeyboardInterrupt

    monkeypatch.setattr("seig.cli.bench.run_benchmark", interrupted)
    result = CliRunner().invoke(app, ["bench", "--suite", "smoke", "--out", str(out)])
    assert result.exit_code != 0
    if finished_a_run:
        assert "finished so far" in result.output and "results.csv" in result.output
    else:
        assert "wrote no results" in result.output and "results.csv" not in result.output


PARENT_PARTS = """
def parent_parts(name, parts):
    for part in parts[1:]:
        part.parent = parts[0]
        part.matrix_parent_inverse = parts[0].matrix_world.inverted()
    parts[0].name = name
    return parts[0]


"""


def test_parts_parented_to_an_object_count_as_that_object(tmp_path):
    case = generate_scene(5, tmp_path / "scene", resolution=48, samples=4, kinds=("table",), objects=1)
    name = case.truth["objects"][0]["name"]
    # The same table, built as a top with four legs parented to it instead of joined into one mesh.
    split = case.program.replace(f"join('{name}', parts)", f"parent_parts('{name}', parts)")
    split = split.replace("def add_light(", PARENT_PARTS + "def add_light(")
    assert split.count("parent_parts(") == 2
    score = score_program(case, split, tmp_path / "split")
    assert score.error is None
    assert score.objects_found == 1 and score.count_error == 0
    assert score.iou > 0.97


def test_fidelity_curves_keep_the_best_so_far_and_average_the_same_runs():
    report = {"rounds": [
        {"renders": 2, "scores": {"psnr": 20.0}},
        {"renders": 3, "scores": {"psnr": 18.0}},
        {"renders": 1, "scores": None},
        {"renders": 4, "scores": {"psnr": 25.0}},
    ]}
    assert fidelity_curve(report) == [(2, 20.0), (5, 20.0), (6, 20.0), (10, 25.0)]
    assert mean_curve([[(1, 10.0), (4, 14.0)], [(2, 20.0)], []]) == [(2.0, 15.0), (4.0, 17.0)]


def test_reused_targets_are_reconstructed_with_the_suite_that_rendered_them():
    """Without --suite, a standard bench's targets reused run with standard's rounds and loop renders, not smoke's."""

    def cases(*renders: tuple[int, int]) -> list[SceneCase]:
        return [SceneCase(seed=1000 + k, directory=Path("scenes"), truth={}, resolution=side, samples=samples) for k, (side, samples) in enumerate(renders)]

    assert suite_of(cases((256, 32), (256, 32))) == "standard"
    assert suite_of(cases((128, 16))) == "smoke"
    assert suite_of(cases((256, 32), (128, 16))) is None  # no one suite rendered them
    assert suite_of(cases((96, 32))) is None  # a --resolution of the bench's own
