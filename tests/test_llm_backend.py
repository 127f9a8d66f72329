"""The VLM backend against a scripted chat model: prompts, parsing, repairs, retries, tokens, factories."""

from __future__ import annotations

import base64
import io
import socket
import sys
import types
from pathlib import Path

import httpx
import openai
import pytest
from fakes import ScriptedChatModel, code_reply, structured_reply
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from PIL import Image, ImageDraw

from seig.context import Context
from seig.models import ModelAnswerError, ModelConfigError, ProviderError, make_backend, make_chat_model
from seig.models.base import CodeRequest, VerifyRequest
from seig.models.content import extract_code, extract_json_object
from seig.models.invoke import provider_failure
from seig.models.llm import LLMBackend
from seig.prompts import load_prompt, render_prompt
from seig.state.state import STAGES, Plan, PlannedObject, RunSettings, Scores, Verdict
from seig.tools.policy import check_program

GOOD_PROGRAM = """import bpy

bpy.ops.mesh.primitive_uv_sphere_add(radius=1.0, location=(0, 0, 1))
cam = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
bpy.context.scene.collection.objects.link(cam)
bpy.context.scene.camera = cam"""

PLAN = Plan(
    summary="A red sphere on a grey floor.",
    objects=[PlannedObject(name="red_sphere", shape="sphere", color="red", material="glossy")],
    camera="eye level, 50 mm",
)


def _picture(path: Path, size: tuple[int, int], colour: str) -> Path:
    img = Image.new("RGB", size, "grey")
    ImageDraw.Draw(img).ellipse((size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2), fill=colour)
    img.save(path)
    return path


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return _picture(tmp_path / "target.png", (1024, 768), "red")


@pytest.fixture
def render(tmp_path: Path) -> Path:
    return _picture(tmp_path / "render.png", (128, 96), "blue")


def _backend(replies, **options) -> tuple[LLMBackend, ScriptedChatModel]:
    model = ScriptedChatModel(replies)
    options.setdefault("backoff", 0.0)
    return LLMBackend(model, **options), model


def _code_request(target: Path, tmp_path: Path, **overrides) -> CodeRequest:
    fields = dict(
        stage="geometry",
        round=2,
        budget=5,
        target=target,
        plan=PLAN,
        program="import bpy\n# the scaffold\n",
        todo=["make red_sphere larger"],
        error=None,
        human_feedback=None,
        last_render=None,
        backend_state={},
        settings=RunSettings(),
        run_dir=tmp_path,
    )
    fields.update(overrides)
    return CodeRequest(**fields)


def _verify_request(target: Path, render: Path | None, **overrides) -> VerifyRequest:
    fields = dict(
        stage="materials",
        round=1,
        budget=3,
        target=target,
        render=render,
        error=None,
        scores=Scores(psnr=21.5, ssim=0.734, lpips=None),
        best_scores=None,
        plan=PLAN,
        backend_state={},
        settings=RunSettings(pass_threshold=0.8),
    )
    fields.update(overrides)
    return VerifyRequest(**fields)


def _images(message: HumanMessage) -> list[Image.Image]:
    blocks = [b for b in message.content if isinstance(b, dict) and b.get("type") == "image_url"]
    prefix = "data:image/png;base64,"
    pictures = []
    for block in blocks:
        url = block["image_url"]["url"]
        assert url.startswith(prefix)
        pictures.append(Image.open(io.BytesIO(base64.b64decode(url[len(prefix):]))))
    return pictures


def _texts(message: HumanMessage) -> list[str]:
    return [b["text"] for b in message.content if isinstance(b, dict) and b.get("type") == "text"]


# ---- planner ----


def test_plan_is_parsed_from_structured_output_and_sees_the_downscaled_photo(target):
    backend, model = _backend([structured_reply(PLAN)])
    result = backend.plan(target, RunSettings())
    assert result.plan == PLAN
    assert result.backend_state == {}
    (system, human), = model.received
    assert isinstance(system, SystemMessage) and "3D artist" in system.content
    (photo,) = _images(human)
    assert photo.size == (512, 384)
    assert "1024 x 768" in _texts(human)[0]


# ---- coder ----


def test_coder_extracts_the_fenced_program_and_sees_everything_it_needs(target, render, tmp_path):
    backend, model = _backend([code_reply(GOOD_PROGRAM, prose="I enlarged the sphere.")])
    request = _code_request(
        target, tmp_path, last_render=render, error="Traceback ...\nNameError: name 'sphere' is not defined",
        human_feedback="the sphere should touch the floor",
    )
    result = backend.write_code(request)
    assert result.program == GOOD_PROGRAM + "\n"
    assert result.notes == ""
    (system, human), = model.received
    for rule in ("bpy.ops.wm", "bpy.ops.render", "mathutils", "scene.camera"):
        assert rule in system.content
    assert "$" not in system.content
    assert len(_images(human)) == 2
    text = _texts(human)[-1]
    for needle in ("Stage: geometry (round 2 of 5)", "red_sphere", "# the scaffold", "- make red_sphere larger",
                   "NameError: name 'sphere' is not defined", "the sphere should touch the floor",
                   load_prompt("stage_geometry").splitlines()[0], "second image is the render"):
        assert needle in text


def test_coder_first_round_has_only_the_target_image(target, tmp_path):
    backend, model = _backend([code_reply(GOOD_PROGRAM)])
    backend.write_code(_code_request(target, tmp_path, stage="scaffold", program="", todo=[], last_render=None))
    human = model.received[0][1]
    assert len(_images(human)) == 1
    assert "start from an empty scene" in _texts(human)[-1]
    assert "second image" not in _texts(human)[-1]


def test_coder_repairs_a_syntax_error(target, tmp_path):
    backend, model = _backend([code_reply("import bpy\ndef broken(:\n    pass"), code_reply(GOOD_PROGRAM)])
    result = backend.write_code(_code_request(target, tmp_path))
    assert result.program.strip() == GOOD_PROGRAM
    assert "SyntaxError" in result.notes
    repair_turn = model.received[1]
    assert isinstance(repair_turn[-2], AIMessage) and "def broken(:" in repair_turn[-2].text
    assert "SyntaxError" in repair_turn[-1].content


def test_coder_repairs_a_policy_refusal(target, tmp_path):
    sneaky = "import bpy\nimport os\nos.remove('x')\nbpy.ops.wm.save_as_mainfile()"
    backend, model = _backend([code_reply(sneaky), code_reply(GOOD_PROGRAM)])
    result = backend.write_code(_code_request(target, tmp_path))
    assert "import os" not in result.program
    repair = model.received[1][-1].content
    assert "import of 'os' is not allowed" in repair
    assert "bpy.ops.wm" in repair


def test_coder_takes_an_unfenced_answer_and_repairs_an_empty_one(target, tmp_path):
    backend, model = _backend(["", GOOD_PROGRAM])
    result = backend.write_code(_code_request(target, tmp_path))
    assert result.program.strip() == GOOD_PROGRAM
    assert "no Python code" in model.received[1][-1].content


def test_coder_gives_up_after_its_retries(target, tmp_path):
    backend, model = _backend([code_reply("import subprocess")] * 3, retries=1)
    with pytest.raises(ModelAnswerError) as info:
        backend.write_code(_code_request(target, tmp_path))
    assert model.calls == 2
    message = str(info.value)
    assert "\n" not in message and "2 attempts" in message and "subprocess" in message


# ---- verifier ----


def test_verifier_sees_target_and_render_labelled_and_the_scores(target, render):
    verdict = Verdict(passed=False, score=0.55, todo=["make red_sphere glossier"], notes="colours are off")
    backend, model = _backend([structured_reply(verdict)])
    result = backend.verify(_verify_request(target, render, best_scores=Scores(psnr=19.0, ssim=0.6, lpips=0.31)))
    assert result.verdict == verdict
    (system, human), = model.received
    assert "art director" in system.content
    kinds = [b.get("type") for b in human.content]
    assert kinds == ["text", "image_url", "text", "image_url", "text"]
    assert human.content[0]["text"] == "Target photograph:" and human.content[2]["text"] == "Current render:"
    target_img, render_img = _images(human)
    assert target_img.getpixel((0, 0)) == (128, 128, 128) and render_img.size == (128, 96)
    text = human.content[4]["text"]
    for needle in ("Stage: materials", "PSNR 21.50 dB, SSIM 0.734, LPIPS unavailable", "LPIPS 0.310", "0.8",
                   load_prompt("stage_materials").splitlines()[0]):
        assert needle in text


def test_verifier_fails_a_crashed_round_without_asking_the_model(target):
    backend, model = _backend([])
    error = "Traceback (most recent call last):\n  File ...\nAttributeError: 'NoneType' has no attribute 'inputs'"
    result = backend.verify(_verify_request(target, None, error=error, scores=None))
    assert model.calls == 0
    assert result.verdict.passed is False and result.verdict.score == 0.0
    (todo,) = result.verdict.todo
    assert "AttributeError: 'NoneType' has no attribute 'inputs'" in todo and "Traceback" not in todo


# ---- malformed structured answers ----


def test_invalid_structured_answer_is_retried_with_the_problem(target, render):
    good = Verdict(passed=True, score=0.9)
    out_of_range = structured_reply({"passed": True, "score": 1.7}, name="Verdict")
    backend, model = _backend([out_of_range, structured_reply(good)])
    assert backend.verify(_verify_request(target, render)).verdict == good
    retry = model.received[1][-1]
    assert isinstance(retry, HumanMessage) and "could not be read" in retry.content and "score" in retry.content


def test_malformed_answers_are_repaired_through_plain_json(target):
    backend, model = _backend(
        [
            structured_reply({"objects": "not a list"}, name="Plan"),
            AIMessage(content="I think it is a red ball."),
            AIMessage(content='Sure:\n```json\n{"summary": "A red ball.",\n'
                              '"objects": [{"name": "ball", "shape": "sphere"}]}\n```'),
        ],
        retries=2,
    )
    plan = backend.plan(target, RunSettings()).plan
    assert plan.summary == "A red ball." and plan.objects[0].name == "ball"
    assert model.calls == 3
    json_turn = model.received[2][-1].content
    assert '"summary"' in json_turn and "JSON" in json_turn and "the answer was empty" in json_turn


def test_unreadable_answers_end_in_model_answer_error(target):
    backend, model = _backend([AIMessage(content="no idea"), AIMessage(content="{not json at all")], retries=1)
    with pytest.raises(ModelAnswerError) as info:
        backend.plan(target, RunSettings())
    assert model.calls == 2 and "Plan" in str(info.value) and "\n" not in str(info.value)


def test_a_model_without_tool_calling_answers_in_plain_json(target):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    model = GenericFakeChatModel(messages=iter([PLAN.model_dump_json()]))
    assert LLMBackend(model, retries=0).plan(target, RunSettings()).plan == PLAN


# ---- provider errors ----


def test_provider_errors_are_retried_with_exponential_backoff(target):
    delays: list[float] = []
    backend, model = _backend(
        [ModelRateLimitError("429 slow down"), ModelAPIError("503 overloaded"), structured_reply(PLAN)],
        backoff=0.25, sleep=delays.append,
    )
    assert backend.plan(target, RunSettings()).plan == PLAN
    assert delays == [0.25, 0.5]
    assert model.calls == 3


def test_provider_error_after_the_last_retry(target, tmp_path):
    delays: list[float] = []
    backend, model = _backend([ModelTimeoutError("read timed out")] * 4, provider_retries=2, sleep=delays.append)
    with pytest.raises(ProviderError) as info:
        backend.write_code(_code_request(target, tmp_path))
    assert model.calls == 3 and len(delays) == 2
    assert "3 attempts" in str(info.value) and "read timed out" in str(info.value)


def test_authentication_errors_are_not_retried(target):
    delays: list[float] = []
    replies = [ModelAuthenticationError("401 invalid api key"), structured_reply(PLAN)]
    backend, model = _backend(replies, sleep=delays.append)
    with pytest.raises(ModelConfigError, match="credentials"):
        backend.plan(target, RunSettings())
    assert model.calls == 1 and delays == []


def test_programming_errors_are_not_mistaken_for_provider_errors(target):
    backend, model = _backend([KeyError("bug"), structured_reply(PLAN)])
    with pytest.raises(KeyError):
        backend.plan(target, RunSettings())
    assert model.calls == 1


def _status_error(cls, status: int):
    response = httpx.Response(status, request=httpx.Request("POST", "https://api.example/v1/chat"))
    return cls("failed", response=response, body=None)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (_status_error(openai.RateLimitError, 429), "retry"),
        (_status_error(openai.InternalServerError, 502), "retry"),
        (_status_error(openai.AuthenticationError, 401), "auth"),
        (_status_error(openai.NotFoundError, 404), "not_found"),
        (_status_error(openai.BadRequestError, 400), "fatal"),
        (openai.APITimeoutError(request=httpx.Request("POST", "https://api.example")), "retry"),
        (httpx.ConnectError("refused"), "retry"),
        (ValueError("a bug"), None),
    ],
)
def test_raw_sdk_errors_are_classified(error, kind):
    assert provider_failure(error) == kind


# ---- tokens ----


def test_tokens_are_summed_over_repair_turns_and_zero_without_usage(target, tmp_path, render):
    backend, _ = _backend(
        [code_reply("import nope", tokens=(100, 20)), code_reply(GOOD_PROGRAM, tokens=(110, 30))]
    )
    assert backend.write_code(_code_request(target, tmp_path)).tokens == 260
    backend, _ = _backend([structured_reply(PLAN, tokens=(900, 40))])
    assert backend.plan(target, RunSettings()).tokens == 940
    backend, _ = _backend([structured_reply(Verdict(passed=True, score=0.9))])
    assert backend.verify(_verify_request(target, render)).tokens == 0


# ---- answers and prompts ----


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ("text\n```python\nimport bpy\n```\nmore", "import bpy"),
        ("```json\n{}\n```\n```py\nx = 1\n```", "x = 1"),
        ("```\nx = 2\n```", "x = 2"),
        ("```python\nx = 3\n", "x = 3"),
        ("  x = 4  \n", "x = 4"),
    ],
)
def test_extract_code(answer, code):
    assert extract_code(answer) == code


def test_extract_json_object_skips_prose_and_broken_braces():
    assert extract_json_object('Here {oops} is it: {"a": {"b": 1}} done') == {"a": {"b": 1}}
    with pytest.raises(ValueError):
        extract_json_object("[1, 2]")


def test_every_stage_has_instructions_and_the_coder_example_obeys_the_policy():
    for stage in (*STAGES, "all"):
        assert len(load_prompt(f"stage_{stage}")) > 100
    example = extract_code(load_prompt("coder").split("# A minimal example", 1)[1])
    assert "scene.camera = cam" in example and check_program(example) == []
    with pytest.raises(KeyError):
        render_prompt("coder_repair")
    with pytest.raises(KeyError, match="known prompts"):
        load_prompt("no_such_prompt")


# ---- factories ----


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a connection fails the test: building a model must not touch the network."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access while building a chat model")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in ("OPENAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_openai_model_from_environment_key(offline):
    from langchain_openai import ChatOpenAI

    offline.setenv("OPENAI_API_KEY", "sk-test")
    model = make_chat_model("openai:gpt-4o")
    assert isinstance(model, ChatOpenAI) and model.model_name == "gpt-4o"
    assert model.openai_api_key.get_secret_value() == "sk-test" and model.max_retries == 0


def test_google_model_from_environment_key(offline):
    from langchain_google_genai import ChatGoogleGenerativeAI

    offline.setenv("GOOGLE_API_KEY", "g-test")
    model = make_chat_model("google_genai:gemini-2.5-flash")
    assert isinstance(model, ChatGoogleGenerativeAI) and model.model.endswith("gemini-2.5-flash")


@pytest.mark.parametrize("spec", ["llava:13b", "openai:llava:13b"])
def test_openai_compatible_server_needs_no_key(offline, spec):
    from langchain_openai import ChatOpenAI

    offline.setenv("OPENAI_API_KEY", "sk-real-key-must-not-leak")
    model = make_chat_model(spec, base_url="http://localhost:11434/v1")
    assert isinstance(model, ChatOpenAI) and model.model_name == "llava:13b"
    assert model.openai_api_base == "http://localhost:11434/v1"
    assert model.openai_api_key.get_secret_value() == "not-needed"
    keyed = make_chat_model(spec, base_url="http://localhost:8000/v1", api_key="vllm-key")
    assert keyed.openai_api_key.get_secret_value() == "vllm-key"


@pytest.mark.parametrize(
    ("spec", "variable"), [("openai:gpt-4o", "OPENAI_API_KEY"), ("google_genai:gemini-2.5-pro", "GOOGLE_API_KEY")]
)
def test_missing_key_names_the_variable(offline, spec, variable):
    with pytest.raises(ModelConfigError, match=variable):
        make_chat_model(spec)
    assert make_chat_model(spec, api_key="explicit") is not None


@pytest.mark.parametrize("spec", ["anthropic:claude", "gpt-4o", "openai:", "classical"])
def test_unknown_specs_are_refused(offline, spec):
    with pytest.raises(ModelConfigError) as info:
        make_chat_model(spec)
    assert "\n" not in str(info.value)


def test_make_backend_wires_the_injected_model_and_refuses_unknown_specs(target):
    fake = ScriptedChatModel([structured_reply(PLAN)])
    backend = make_backend(RunSettings(model="openai:gpt-4o"), Context(chat_model=fake, model_retries=4))
    assert isinstance(backend, LLMBackend) and backend.caller.retries == 4
    assert backend.plan(target, RunSettings()).plan == PLAN
    with pytest.raises(ModelConfigError, match="accepted forms"):
        make_backend(RunSettings(model="mystery-model"), Context())


def test_make_backend_imports_the_classical_backend_lazily(monkeypatch):
    class ClassicalBackend:
        name = "classical"

    monkeypatch.setitem(sys.modules, "seig.models.classical", types.SimpleNamespace(ClassicalBackend=ClassicalBackend))
    assert isinstance(make_backend(RunSettings(model="classical"), Context()), ClassicalBackend)


# ---- the real OpenAI client, served by a local mock transport ----


def _completion(content: str) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "llava",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57},
    }


def test_backend_through_chat_openai_with_a_mock_server(target):
    """The request ChatOpenAI really sends carries the image, and a 429 from the SDK is retried."""
    import json

    from langchain_openai import ChatOpenAI

    bodies: list[dict] = []
    responses = [httpx.Response(429, json={"error": {"message": "rate limited"}}),
                 httpx.Response(200, json=_completion(PLAN.model_dump_json()))]

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return responses.pop(0)

    model = ChatOpenAI(
        model="llava", base_url="http://vlm.local/v1", api_key="not-needed", max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    delays: list[float] = []
    result = LLMBackend(model, sleep=delays.append).plan(target, RunSettings())
    assert result.plan == PLAN and result.tokens == 57 and delays == [1.0]
    parts = bodies[-1]["messages"][-1]["content"]
    assert any(p["type"] == "image_url" and p["image_url"]["url"].startswith("data:image/png;base64,") for p in parts)
    assert bodies[-1]["response_format"]["type"] == "json_schema"
