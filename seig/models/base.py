"""The interface every model backend implements, VLM or offline.

Nodes talk only to this interface, so the offline inverse-graphics baseline
and any LangChain chat model are interchangeable behind the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from seig.state.state import Plan, RunSettings, Scores, Verdict

# Renders a candidate program at loop quality and returns (render path or None, error or None).
RenderFn = Callable[[str], tuple[Path | None, str | None]]


@dataclass
class PlanResult:
    plan: Plan
    backend_state: dict[str, Any] = field(default_factory=dict)
    tokens: int = 0


@dataclass
class CodeRequest:
    """Everything the coder may use to write the next program for the current stage."""

    stage: str
    round: int
    budget: int
    target: Path
    plan: Plan | None
    program: str
    todo: list[str]
    error: str | None
    human_feedback: str | None
    last_render: Path | None
    backend_state: dict[str, Any]
    settings: RunSettings
    run_dir: Path
    render: RenderFn | None = None


@dataclass
class CodeResult:
    program: str
    backend_state: dict[str, Any] = field(default_factory=dict)
    tokens: int = 0
    renders: int = 0
    notes: str = ""


@dataclass
class VerifyRequest:
    """A rendered round to judge. ``render`` is None and ``error`` set when the program failed."""

    stage: str
    round: int
    budget: int
    target: Path
    render: Path | None
    error: str | None
    scores: Scores | None
    best_scores: Scores | None
    plan: Plan | None
    backend_state: dict[str, Any]
    settings: RunSettings
    previous_gain: float | None = None  # the stage's round before this one: its PSNR over the best before it, in dB


@dataclass
class VerifyResult:
    verdict: Verdict
    tokens: int = 0


class Backend(Protocol):
    """A planner, a stage coder and a verifier. Implementations: ``llm`` and ``classical``."""

    name: str

    def plan(self, target: Path, settings: RunSettings) -> PlanResult: ...

    def write_code(self, request: CodeRequest) -> CodeResult: ...

    def verify(self, request: VerifyRequest) -> VerifyResult: ...
