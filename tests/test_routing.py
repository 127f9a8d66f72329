"""Routers are pure functions of state: the same state always routes the same way."""

from seig.graph.routing import after_approval, after_execute, after_verify
from seig.state.state import PendingRound, RunSettings, SeigState


def state(**fields) -> SeigState:
    settings = fields.pop("settings", RunSettings(budgets={"scaffold": 2, "geometry": 3}))
    return SeigState(image_path="x.png", run_dir="/tmp/r", settings=settings, **fields)


def test_failed_program_skips_the_renderer():
    ok = PendingRound(program="import bpy", program_path="p.py")
    broken = ok.model_copy(update={"error": "NameError: x"})
    assert after_execute(state(pending=ok)) == "renderer"
    assert after_execute(state(pending=broken)) == "verifier"


def test_loops_in_stage_until_done_then_advances_or_finalizes():
    assert after_verify(state(stage_done=False)) == "coder"
    assert after_verify(state(stage_done=True, stage_index=0)) == "advance"
    assert after_verify(state(stage_done=True, stage_index=1)) == "finalize"


def test_approval_policies():
    stages = RunSettings(budgets={"scaffold": 1, "geometry": 1}, approve="stages")
    final = RunSettings(budgets={"scaffold": 1, "geometry": 1}, approve="final")
    assert after_verify(state(settings=stages, stage_done=True, stage_index=0)) == "approval"
    assert after_verify(state(settings=final, stage_done=True, stage_index=0)) == "advance"
    assert after_verify(state(settings=final, stage_done=True, stage_index=1)) == "approval"


def test_after_approval():
    assert after_approval(state(decision="approve", stage_index=0)) == "advance"
    assert after_approval(state(decision="approve", stage_index=1)) == "finalize"
    assert after_approval(state(decision="revise")) == "coder"
    assert after_approval(state(decision="redo")) == "coder"


def test_monolithic_is_one_stage_with_the_whole_budget():
    settings = RunSettings(mode="monolithic")
    s = state(settings=settings)
    assert s.stages == ["all"]
    assert s.round_budget == sum(RunSettings().budgets.values())
    assert after_verify(s.model_copy(update={"stage_done": True})) == "finalize"


def test_zero_budget_stages_are_skipped_and_revise_extends_the_budget():
    s = state(settings=RunSettings(budgets={"scaffold": 1, "geometry": 0, "materials": 2, "composition": 0, "lighting": 0}))
    assert s.stages == ["scaffold", "materials"]
    assert s.model_copy(update={"stage_index": 1, "extra_rounds": 1}).round_budget == 3


def test_unspent_rounds_are_what_the_stage_and_its_carry_left():
    s = state(settings=RunSettings(budgets={"scaffold": 2, "geometry": 3, "materials": 0, "composition": 0, "lighting": 0}))
    assert s.model_copy(update={"round": 1}).unspent_rounds == 1
    carried = s.model_copy(update={"stage_index": 1, "carried_rounds": 1, "round": 2, "extra_rounds": 2})
    assert carried.round_budget == 6 and carried.unspent_rounds == 2  # a reviewer's extra rounds are not carried on
