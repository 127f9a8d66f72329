"""The graph end to end with scripted chat models, real Blender renders and a real SQLite checkpointer."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seig import runs
from seig.context import Context
from seig.nodes.verifier import previous_gain
from seig.state.state import Plan, RunSettings, Verdict
from seig.tools.executor import RenderSpec, shared_executor
from seig.tools.images import read_rgb
from seig.tools.metrics import psnr
from tests.fakes import ScriptedChatModel, code_reply, structured_reply

SCENE = """import bpy
bpy.ops.mesh.primitive_uv_sphere_add(radius=1.0, location=(0, 0, 1))
ball = bpy.context.active_object
ball.name = "ball"
mat = bpy.data.materials.new("ball_mat")
mat.use_nodes = True
mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = {color}
ball.data.materials.append(mat)
bpy.ops.mesh.primitive_plane_add(size=20)
cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
bpy.context.scene.collection.objects.link(cam)
bpy.context.scene.camera = cam
cam.location = (0, -7, 2.5)
cam.rotation_euler = (1.35, 0, 0)
sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", "SUN"))
bpy.context.scene.collection.objects.link(sun)
sun.rotation_euler = (0.6, 0.2, 0.3)
bpy.context.scene.world.color = (0.6, 0.7, 0.9)
"""
RED = SCENE.format(color=(0.8, 0.05, 0.05, 1))
BLUE = SCENE.format(color=(0.05, 0.05, 0.8, 1))
BROKEN = "import bpy\nsize = 1 / 0\n"
PLAN = Plan(summary="a red ball on a plane")


def verdict(passed: bool, *todo: str) -> object:
    return structured_reply(Verdict(passed=passed, score=0.9 if passed else 0.3, todo=list(todo)))


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("target") / "red.png"
    result = shared_executor().run(RED, render=RenderSpec(48, 36, samples=4), render_out=out)
    assert result.ok, result.error
    return out


def settings(**overrides) -> RunSettings:
    base = dict(
        model="openai:scripted",
        budgets={"scaffold": 2, "geometry": 0, "materials": 0, "composition": 0, "lighting": 0},
        loop_resolution=48,
        loop_samples=4,
        final_resolution=48,
        final_samples=4,
    )
    base.update(overrides)
    return RunSettings(**base)


def run(target: Path, tmp_path: Path, replies: list, resume=None, **overrides):
    ctx = Context(db_path=tmp_path / "db.sqlite", chat_model=ScriptedChatModel(replies))
    thread = runs.start_run(target, tmp_path / "run", settings(**overrides), ctx)
    events = runs.drive(thread, ctx)
    return ctx, thread, events


def last_text(model: ScriptedChatModel) -> str:
    """Everything the model was shown in its latest call, as text."""
    parts = []
    for message in model.received[-1]:
        content = message.content
        parts += [content] if isinstance(content, str) else [b.get("text", "") for b in content if isinstance(b, dict)]
    return "\n".join(parts)


def test_loops_until_the_verifier_passes_then_writes_the_outputs(target, tmp_path):
    replies = [structured_reply(PLAN), code_reply(BLUE), verdict(False, "the ball must be red"), code_reply(RED), verdict(True)]
    ctx, thread, events = run(target, tmp_path, replies, budgets={"scaffold": 3})
    assert events[-1]["type"] == "done", events[-1]
    state = runs.get_run_state(thread, ctx)
    assert [r.round for r in state.history] == [1, 2]
    assert state.history[1].kept and state.history[1].scores.psnr > state.history[0].scores.psnr
    assert "the ball must be red" in last_text_of_call(ctx.chat_model, 3)
    run_dir = tmp_path / "run"
    for name in ("scene.py", "scene.blend", "final.png", "comparison.png", "report.json", "stages.png"):
        assert (run_dir / name).stat().st_size > 0, name
    report = json.loads((run_dir / "report.json").read_text())
    assert report["totals"]["rounds"] == 2 and report["final"]["psnr"] > 30
    assert report["lpips"].startswith("LPIPS unavailable") or report["lpips"] == "available"
    assert_standalone_scene_renders_the_same(run_dir, tmp_path / "standalone")


def assert_standalone_scene_renders_the_same(run_dir: Path, elsewhere: Path) -> None:
    """`python scene.py` rebuilds the scene on its own and renders what the run rendered."""
    elsewhere.mkdir()
    shutil.copy(run_dir / "scene.py", elsewhere / "scene.py")
    done = subprocess.run([sys.executable, "scene.py"], cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert psnr(read_rgb(run_dir / "final.png"), read_rgb(elsewhere / "final.png")) > 40


def last_text_of_call(model: ScriptedChatModel, index: int) -> str:
    saved = model.received
    try:
        model.received = saved[: index + 1]
        return last_text(model)
    finally:
        model.received = saved


def test_stops_when_the_stage_budget_is_spent(target, tmp_path):
    replies = [structured_reply(PLAN)] + [code_reply(BLUE), verdict(False, "closer")] * 2
    ctx, thread, events = run(target, tmp_path, replies)
    assert events[-1]["type"] == "done"
    assert len(runs.get_run_state(thread, ctx).history) == 2
    assert ctx.chat_model.calls == 5 and not ctx.chat_model.script


def test_a_worse_round_is_reverted_and_the_next_starts_from_the_best(target, tmp_path):
    replies = [structured_reply(PLAN), code_reply(RED), verdict(False, "x"), code_reply(BLUE), verdict(False, "y")]
    replies += [code_reply(BLUE), verdict(False, "z")]
    ctx, thread, events = run(target, tmp_path, replies, budgets={"scaffold": 3})
    state = runs.get_run_state(thread, ctx)
    assert [r.kept for r in state.history] == [True, False, False]
    first, second, _ = state.history
    assert first.gain is None and second.gain == pytest.approx(second.scores.psnr - first.scores.psnr) and second.gain < 0
    # what the verifier would hand a fourth scaffold round's judge, and a new stage's first
    assert previous_gain(state.model_copy(update={"stage": "scaffold", "round": 3})) == state.history[-1].gain
    assert previous_gain(state.model_copy(update={"stage": "geometry", "round": 0})) is None
    assert state.best_program.strip() == RED.strip()
    third_coder_prompt = last_text_of_call(ctx.chat_model, 5)
    assert "(0.8, 0.05, 0.05, 1)" in third_coder_prompt and "(0.05, 0.05, 0.8, 1)" not in third_coder_prompt


def test_each_stage_is_judged_against_its_own_rounds(target, tmp_path):
    """A scaffold that happens to score high must not swallow the stages built on it."""
    replies = [structured_reply(PLAN), code_reply(RED), verdict(True), code_reply(BLUE), verdict(False, "x"), code_reply(RED), verdict(True)]
    replies += [code_reply(BLUE), verdict(True)]
    ctx, thread, events = run(target, tmp_path, replies, budgets={"scaffold": 1, "geometry": 2, "materials": 1, "composition": 0, "lighting": 0})
    assert events[-1]["type"] == "done", events[-1]
    state = runs.get_run_state(thread, ctx)
    assert [(r.stage, r.kept) for r in state.history] == [("scaffold", True), ("geometry", True), ("geometry", True), ("materials", True)]
    assert state.history[3].scores.psnr < state.history[0].scores.psnr  # worse than the scaffold, kept all the same
    assert state.best_program.strip() == BLUE.strip()
    assert "(0.05, 0.05, 0.8, 1)" in (tmp_path / "run" / "scene.py").read_text()


def test_rounds_a_stage_did_not_need_carry_over_to_the_next(target, tmp_path):
    """A staged run may spend the whole budget it was given, as a monolithic run does."""
    replies = [structured_reply(PLAN), code_reply(RED), verdict(True)]
    replies += [code_reply(BLUE), verdict(False, "x"), code_reply(BLUE), verdict(False, "y"), code_reply(BLUE), verdict(False, "z")]
    ctx, thread, events = run(target, tmp_path, replies, budgets={"scaffold": 3, "geometry": 1, "materials": 0, "composition": 0, "lighting": 0})
    assert events[-1]["type"] == "done", events[-1]
    state = runs.get_run_state(thread, ctx)
    assert [(r.stage, r.round) for r in state.history] == [("scaffold", 1), ("geometry", 1), ("geometry", 2), ("geometry", 3)]
    assert not ctx.chat_model.script


def test_a_program_error_becomes_feedback_for_the_next_round(target, tmp_path):
    replies = [structured_reply(PLAN), code_reply(BROKEN), code_reply(RED), verdict(True)]
    ctx, thread, events = run(target, tmp_path, replies)
    state = runs.get_run_state(thread, ctx)
    assert "ZeroDivisionError" in state.history[0].error and state.history[0].render_path is None
    assert "ZeroDivisionError" in last_text_of_call(ctx.chat_model, 2)
    assert events[-1]["type"] == "done"


def test_malformed_answers_are_repaired(target, tmp_path):
    replies = [
        structured_reply({"summary": 5, "objects": "many"}, name="Plan"),
        structured_reply(PLAN),
        code_reply("import bpy\nbpy.ops.mesh.primitive_cube_add(size=2"),
        code_reply(RED),
        verdict(True),
    ]
    ctx, thread, events = run(target, tmp_path, replies)
    assert events[-1]["type"] == "done"
    assert runs.get_run_state(thread, ctx).plan.summary == PLAN.summary


def test_a_model_that_never_answers_well_leaves_a_resumable_run(target, tmp_path):
    hopeless = [structured_reply(PLAN)] + [code_reply("import os\nos.system('ls')")] * 3
    ctx, thread, events = run(target, tmp_path, hopeless)
    assert events[-1]["type"] == "error" and "ModelAnswerError" in events[-1]["message"]
    assert runs.list_runs(ctx)[0].status == "stopped"
    ctx.chat_model = ScriptedChatModel([code_reply(RED), verdict(True)])
    events = runs.drive(thread, ctx)
    assert events[-1]["type"] == "done"
    assert runs.get_run_state(thread, ctx).plan.summary == PLAN.summary  # the plan was not redone


def test_approval_revise_then_approve_through_command_resume(target, tmp_path):
    replies = [structured_reply(PLAN), code_reply(BLUE), verdict(True)]
    ctx, thread, events = run(
        target, tmp_path, replies, approve="stages", budgets={"scaffold": 1, "geometry": 1}
    )
    assert events[-1]["type"] == "interrupt" and events[-1]["payload"]["stage"] == "scaffold"
    assert runs.list_runs(ctx)[0].status == "waiting"

    ctx.chat_model.script += [code_reply(RED), verdict(True)]
    events = runs.drive(thread, ctx, {"action": "revise", "comment": "the ball is red, not blue"})
    assert "the ball is red, not blue" in last_text_of_call(ctx.chat_model, 3)
    assert events[-1]["type"] == "interrupt" and events[-1]["payload"]["stage"] == "scaffold"
    state = runs.get_run_state(thread, ctx)
    assert len(state.history) == 2 and state.history[1].kept

    ctx.chat_model.script += [code_reply(RED), verdict(True)]
    events = runs.drive(thread, ctx, {"action": "approve"})
    assert events[-1]["type"] == "interrupt" and events[-1]["payload"]["stage"] == "geometry"
    events = runs.drive(thread, ctx, "approve")
    assert events[-1]["type"] == "done"
    assert [r.stage for r in runs.get_run_state(thread, ctx).history] == ["scaffold", "scaffold", "geometry"]


def test_redo_returns_the_stage_to_where_it_started(target, tmp_path):
    replies = [structured_reply(PLAN), code_reply(BLUE), verdict(True)]
    ctx, thread, events = run(target, tmp_path, replies, approve="stages", budgets={"scaffold": 1})
    ctx.chat_model.script += [code_reply(RED), verdict(True)]
    events = runs.drive(thread, ctx, {"action": "redo", "comment": "start again"})
    state = runs.get_run_state(thread, ctx)
    assert state.round == 1 and state.best_program.strip() == RED.strip()
    assert "(none yet" in last_text_of_call(ctx.chat_model, 3)  # the redo started from an empty program


def test_a_bad_decision_is_refused_without_touching_the_run(target, tmp_path):
    replies = [structured_reply(PLAN), code_reply(RED), verdict(True)]
    ctx, thread, _ = run(target, tmp_path, replies, approve="final", budgets={"scaffold": 1})
    with pytest.raises(ValueError, match="approve, revise, redo"):
        runs.drive(thread, ctx, {"action": "ship it"})
    assert runs.list_runs(ctx)[0].status == "waiting"


def test_fork_from_a_checkpoint_leaves_the_original_untouched(target, tmp_path):
    replies = [structured_reply(PLAN), code_reply(BLUE), verdict(False, "red"), code_reply(RED), verdict(True)]
    ctx, thread, _ = run(target, tmp_path, replies, budgets={"scaffold": 2})
    history = runs.run_history(thread, ctx)
    original = [(c.checkpoint_id, c.rounds_done) for c in history]
    after_first_round = next(c for c in history if c.rounds_done == 1 and c.next == ("coder",))

    ctx.chat_model = ScriptedChatModel([code_reply(RED), verdict(True)])
    fork = runs.fork_run(thread, after_first_round.checkpoint_id, ctx, budgets={"scaffold": 2, "geometry": 0})
    events = runs.drive(fork, ctx)
    assert events[-1]["type"] == "done"
    forked = runs.get_run_state(fork, ctx)
    assert len(forked.history) == 2 and forked.history[0].round == 1
    assert Path(forked.run_dir) != Path(runs.get_run_state(thread, ctx).run_dir)
    assert [(c.checkpoint_id, c.rounds_done) for c in runs.run_history(thread, ctx)] == original
    assert {r.thread_id for r in runs.list_runs(ctx)} == {thread, fork}


def test_a_finished_run_forked_with_a_larger_budget_runs_on_unless_it_had_passed(target, tmp_path):
    replies = [structured_reply(PLAN), code_reply(BLUE), verdict(False, "red")]
    ctx, thread, _ = run(target, tmp_path, replies, budgets={"scaffold": 1})
    last = runs.run_history(thread, ctx)[-1]

    ctx.chat_model = ScriptedChatModel([code_reply(RED), verdict(True)])
    fork = runs.fork_run(thread, last.checkpoint_id, ctx, budgets={"scaffold": 2})
    assert runs.drive(fork, ctx)[-1]["type"] == "done"
    forked = runs.get_run_state(fork, ctx)
    assert [r.round for r in forked.history] == [1, 2] and forked.best_program.strip() == RED.strip()

    again = runs.fork_run(fork, runs.run_history(fork, ctx)[-1].checkpoint_id, ctx, budgets={"scaffold": 4})
    runs.drive(again, ctx)
    assert len(runs.get_run_state(again, ctx).history) == 2  # its last round passed: nothing to resume


def test_a_free_text_edit_runs_the_loop_on_the_same_thread_and_can_be_undone(target, tmp_path):
    replies = [structured_reply(PLAN), code_reply(RED), verdict(True)]
    ctx, thread, _ = run(target, tmp_path, replies, budgets={"scaffold": 1})
    before_edit = runs.run_history(thread, ctx)[-1]

    ctx.chat_model.script += [code_reply(BLUE), verdict(True)]
    events = list(runs.edit_with_model(thread, "make the ball blue", ctx))
    assert events[-1]["type"] == "done"
    assert "make the ball blue" in last_text_of_call(ctx.chat_model, 3)  # the coder saw the instruction
    assert "make the ball blue" in last_text_of_call(ctx.chat_model, 4)  # and so did the verifier
    state = runs.get_run_state(thread, ctx)
    assert state.best_program.strip() == BLUE.strip() and state.history[-1].stage == "edit"
    assert "(0.05, 0.05, 0.8, 1)" in (tmp_path / "run" / "scene.py").read_text()

    undone = runs.fork_run(thread, before_edit.checkpoint_id, ctx)
    assert runs.get_run_state(undone, ctx).best_program.strip() == RED.strip()


def test_free_text_edits_need_a_vlm(target, tmp_path):
    replies = [structured_reply(PLAN), code_reply(RED), verdict(True)]
    ctx, thread, _ = run(target, tmp_path, replies, budgets={"scaffold": 1})
    with pytest.raises(ValueError, match="need a VLM"):
        runs.edit_with_model(thread, "bigger", ctx, model="classical")
