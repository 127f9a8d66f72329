"""The graph's state: small, pydantic, and made of paths rather than pixels.

Everything a router needs (budgets, counters, the approval policy) lives here,
so routers stay pure functions of state and a fork made with ``update_state``
routes exactly as the original run would have.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

STAGES: tuple[str, ...] = ("scaffold", "geometry", "materials", "composition", "lighting")
MONOLITHIC_STAGE = "all"
EDIT_STAGE = "edit"
# Lighting's own rounds cover the offline backend's five fixed lighting steps; with three it reached its
# exposure trial only on rounds earlier stages left over, and ended still gaining on 7 of 32 bench scenes.
DEFAULT_BUDGETS: dict[str, int] = {
    "scaffold": 2,
    "geometry": 4,
    "materials": 3,
    "composition": 3,
    "lighting": 5,
}

ApprovalPolicy = Literal["never", "stages", "final"]
Mode = Literal["staged", "monolithic"]


class PlannedObject(BaseModel):
    """One object the planner sees in the photo."""

    name: str = Field(description="Short unique identifier, e.g. 'red_sphere'.")
    shape: str = Field(description="Primitive or description: cube, sphere, cylinder, cone, torus, ...")
    color: str = Field(default="", description="Dominant colour, words or hex.")
    material: str = Field(default="", description="matte, glossy, metallic, glass, ...")
    position: str = Field(default="", description="Where it stands in the image and relative to others.")
    size: str = Field(default="", description="Approximate size relative to the scene.")


class Plan(BaseModel):
    """The planner's reading of the photo: what to build, stage by stage."""

    summary: str = Field(description="One or two sentences describing the scene.")
    objects: list[PlannedObject] = Field(default_factory=list)
    layout: str = Field(default="", description="Spatial arrangement and ground/background.")
    camera: str = Field(default="", description="Camera height, angle and focal length guess.")
    lighting: str = Field(default="", description="Light types, directions, colours, strength.")
    background: str = Field(default="", description="World/background colour or environment.")


class Verdict(BaseModel):
    """The verifier's structured judgement of one round."""

    passed: bool = Field(description="True when this stage is good enough to move on.")
    score: float = Field(ge=0.0, le=1.0, description="Overall similarity for this stage, 0 to 1.")
    todo: list[str] = Field(default_factory=list, description="Concrete fixes for the current stage only.")
    notes: str = Field(default="", description="Short free-form reasoning.")


class Scores(BaseModel):
    """Numeric image scores of a render against the target. LPIPS is None when unavailable."""

    psnr: float
    ssim: float
    lpips: float | None = None


def psnr_gain(scores: Scores | None, best: Scores | None) -> float | None:
    """How far a round's PSNR is above the stage's best before it; None for a failed or first round."""
    return scores.psnr - best.psnr if scores is not None and best is not None else None


class RoundRecord(BaseModel):
    """What happened in one stage round; the report and the UI are built from these."""

    stage: str
    round: int
    program_path: str
    render_path: str | None = None
    scores: Scores | None = None
    verdict: Verdict | None = None
    error: str | None = None
    kept: bool = False
    gain: float | None = Field(default=None, description="PSNR over the stage's best before this round, in dB.")
    timings: dict[str, float] = Field(default_factory=dict)
    renders: int = 0
    tokens: int = 0
    feedback: list[str] = Field(default_factory=list)


class RunSettings(BaseModel):
    """The choices a run was started with. Stored in state so resume and fork replay them."""

    model: str = "classical"
    base_url: str | None = None
    mode: Mode = "staged"
    budgets: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_BUDGETS))
    approve: ApprovalPolicy = "never"
    loop_resolution: int = 128
    loop_samples: int = 16
    final_resolution: int = 384
    final_samples: int = 64
    pass_threshold: float = 0.8
    edit_instruction: str | None = None
    edit_rounds: int = 3

    def stage_plan(self) -> list[str]:
        """The ordered stages of this run; monolithic mode is one stage with the whole budget.

        A free-text edit of a finished run is one 'edit' stage that follows the instruction.
        """
        if self.edit_instruction:
            return [EDIT_STAGE]
        if self.mode == "monolithic":
            return [MONOLITHIC_STAGE]
        return [s for s in STAGES if self.budgets.get(s, 0) > 0]

    def budget(self, stage: str) -> int:
        if stage == EDIT_STAGE:
            return self.edit_rounds
        if stage == MONOLITHIC_STAGE:
            return sum(self.budgets.get(s, 0) for s in STAGES)
        return self.budgets.get(stage, 0)


class PendingRound(BaseModel):
    """The round in flight: written by the coder, filled in by executor, renderer and verifier."""

    program: str
    program_path: str
    blend_path: str | None = None
    render_path: str | None = None
    error: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    renders: int = 0
    tokens: int = 0
    feedback: list[str] = Field(default_factory=list)
    backend_state: dict[str, Any] = Field(default_factory=dict)


class StageStart(BaseModel):
    """The best result when a stage began, so 'redo stage' can return to it."""

    program: str = ""
    render: str | None = None
    backend_state: dict[str, Any] = Field(default_factory=dict)


class SeigState(BaseModel):
    """The whole run. Counters are here so every loop is bounded in state, not by recursion limits."""

    image_path: str
    run_dir: str
    settings: RunSettings = Field(default_factory=RunSettings)
    plan: Plan | None = None
    backend_state: dict[str, Any] = Field(default_factory=dict)

    stage_index: int = 0
    round: int = 0
    extra_rounds: int = 0
    carried_rounds: int = 0
    pending: PendingRound | None = None

    best_program: str = ""
    best_score: float | None = None
    best_scores: Scores | None = None
    best_render: str | None = None
    stage_start: StageStart = Field(default_factory=StageStart)

    todo: list[str] = Field(default_factory=list)
    last_error: str | None = None
    human_feedback: str | None = None
    stage_done: bool = False
    decision: Literal["approve", "revise", "redo"] | None = None
    plan_tokens: int = 0
    plan_seconds: float = 0.0

    history: Annotated[list[RoundRecord], operator.add] = Field(default_factory=list)
    status: Literal["running", "done", "failed"] = "running"
    error: str | None = None
    outputs: dict[str, str] = Field(default_factory=dict)

    @property
    def stages(self) -> list[str]:
        return self.settings.stage_plan()

    @property
    def stage(self) -> str:
        stages = self.stages
        return stages[min(self.stage_index, len(stages) - 1)]

    @property
    def is_last_stage(self) -> bool:
        return self.stage_index >= len(self.stages) - 1

    @property
    def round_budget(self) -> int:
        """The stage's own rounds, those earlier stages left unspent, and any a reviewer granted."""
        return self.settings.budget(self.stage) + self.carried_rounds + self.extra_rounds

    def stage_ends(self, passed: bool, round_: int) -> bool:
        """Whether the stage is over after ``round_``: its verdict passed or its budget is spent."""
        return passed or round_ >= self.round_budget

    @property
    def unspent_rounds(self) -> int:
        """Rounds of the run's budget this stage did not need; the next stage may spend them."""
        return max(0, self.settings.budget(self.stage) + self.carried_rounds - self.round)
