"""The VLM backend: planner, stage coder and verifier on top of any LangChain chat model.

The same three roles work with OpenAI, Gemini or a local OpenAI-compatible
server because the backend only uses ``invoke`` and ``with_structured_output``.
The model never touches Blender: it writes text, and the code it writes is
checked against the sandbox policy here before the graph ever runs it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from PIL import Image

from seig.models.base import CodeRequest, CodeResult, PlanResult, VerifyRequest, VerifyResult
from seig.models.content import extract_code, image_block, text_block
from seig.models.errors import ModelAnswerError
from seig.models.invoke import ModelCaller, usage_tokens
from seig.prompts import load_prompt, render_prompt
from seig.state.state import EDIT_STAGE, Plan, RunSettings, Scores, Verdict
from seig.tools.policy import ALLOWED_IMPORTS, check_program


ERROR_CHARS = 2000


class LLMBackend:
    """A ``Backend`` whose planner, coder and verifier are one vision-language chat model."""

    name = "llm"

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        retries: int = 2,
        provider_retries: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.caller = ModelCaller(
            chat_model, retries=retries, provider_retries=provider_retries, backoff=backoff, sleep=sleep
        )

    def plan(self, target: Path, settings: RunSettings) -> PlanResult:
        width, height = _image_size(target)
        messages = [
            SystemMessage(load_prompt("planner")),
            HumanMessage(
                [text_block(render_prompt("planner_request", width=width, height=height)), image_block(target)]
            ),
        ]
        plan, tokens = self.caller.structured(messages, Plan)
        return PlanResult(plan=plan, tokens=tokens)

    def write_code(self, request: CodeRequest) -> CodeResult:
        """The full program for this stage; bad answers get repair turns, then ModelAnswerError."""
        messages = self._coder_messages(request)
        tokens = 0
        repairs: list[str] = []
        for _ in range(self.caller.retries + 1):
            reply = self.caller.ask(messages)
            tokens += usage_tokens(reply)
            program = extract_code(reply.text)
            problems = check_program(program) if program else ["the answer contained no Python code"]
            if not problems:
                notes = f"repaired after: {'; '.join(repairs)}" if repairs else ""
                return CodeResult(program=program + "\n", tokens=tokens, notes=notes)
            repairs.append(problems[0])
            listed = "\n".join(f"- {p}" for p in problems)
            messages = messages + [reply, HumanMessage(render_prompt("coder_repair", problems=listed))]
        raise ModelAnswerError(
            f"the model wrote no usable {request.stage} program in {len(repairs)} attempts; last problem: {repairs[-1]}"
        )

    def verify(self, request: VerifyRequest) -> VerifyResult:
        """A verdict for this stage; a failed round fails without asking the model."""
        if request.error or request.render is None:
            error = _error_line(request.error or "the round produced no render")
            todo = render_prompt("verifier_failure", error=error)
            return VerifyResult(Verdict(passed=False, score=0.0, todo=[todo], notes="the round failed"))
        request_text = render_prompt(
            "verifier_request",
            stage=request.stage,
            round=request.round,
            budget=request.budget,
            stage_instructions=_stage_instructions(request.stage, request.settings),
            scores=_scores_text(request.scores),
            best_scores=_scores_text(request.best_scores),
            threshold=request.settings.pass_threshold,
            plan=_plan_text(request.plan),
        )
        messages = [
            SystemMessage(load_prompt("verifier")),
            HumanMessage(
                [
                    text_block("Target photograph:"),
                    image_block(request.target),
                    text_block("Current render:"),
                    image_block(request.render),
                    text_block(request_text),
                ]
            ),
        ]
        verdict, tokens = self.caller.structured(messages, Verdict)
        return VerifyResult(verdict=verdict, tokens=tokens)

    def _coder_messages(self, request: CodeRequest) -> list[BaseMessage]:
        width, height = _image_size(request.target)
        has_render = request.last_render is not None and bool(request.program.strip())
        text = render_prompt(
            "coder_request",
            stage=request.stage,
            round=request.round,
            budget=request.budget,
            stage_instructions=_stage_instructions(request.stage, request.settings),
            width=width,
            height=height,
            render_note="The second image is the render of the current program." if has_render else "",
            plan=_plan_text(request.plan),
            program=f"```python\n{request.program.strip()}\n```" if request.program.strip()
            else "(none yet: start from an empty scene)",
            todo="\n".join(f"- {item}" for item in request.todo) or "(no list yet: follow the stage instructions)",
            error=f"# The last program failed\n\n{_tail(request.error)}" if request.error else "",
            human_feedback=f"# Comment from the human director\n\n{request.human_feedback.strip()}"
            if request.human_feedback
            else "",
        )
        content = [image_block(request.target)]
        if has_render:
            content.append(image_block(request.last_render))
        content.append(text_block(re.sub(r"\n{3,}", "\n\n", text).strip()))
        system = render_prompt(
            "coder", allowed_imports=", ".join(sorted(ALLOWED_IMPORTS))
        )
        return [SystemMessage(system), HumanMessage(content)]


def _stage_instructions(stage: str, settings: RunSettings) -> str:
    """The stage's instructions; an edit stage carries the user's instruction for coder and verifier."""
    if stage == EDIT_STAGE:
        return render_prompt("stage_edit", instruction=settings.edit_instruction or "")
    return load_prompt(f"stage_{stage}")


def _image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.size


def _plan_text(plan: Plan | None) -> str:
    return plan.model_dump_json(indent=2) if plan is not None else "(no plan)"


def _scores_text(scores: Scores | None) -> str:
    if scores is None:
        return "(none)"
    lpips = f"{scores.lpips:.3f}" if scores.lpips is not None else "unavailable"
    return f"PSNR {scores.psnr:.2f} dB, SSIM {scores.ssim:.3f}, LPIPS {lpips}"


def _tail(text: str, limit: int = ERROR_CHARS) -> str:
    """The end of a long error, where the exception message is."""
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def _error_line(text: str) -> str:
    """The line of an error that says what went wrong: the last one of a traceback."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text
