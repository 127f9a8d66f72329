"""The Streamlit studio driven through AppTest: real graph runs with the offline backend, real SQLite."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

import seig.ui
from seig import runs
from seig.context import Context
from seig.state.state import STAGES, RunSettings
from seig.ui import jobs
from seig.ui.inputs import example_images

APP = Path(seig.ui.__file__).parent / "app.py"
TINY = dict(loop_resolution=32, loop_samples=2, final_resolution=40, final_samples=2)


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "runs" / "seig.sqlite"
    monkeypatch.setenv("SEIG_DB", str(path))
    return path


def photo_bytes() -> bytes:
    img = Image.new("RGB", (48, 36), (70, 110, 190))
    ImageDraw.Draw(img).ellipse((12, 8, 32, 28), fill=(220, 50, 40))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def open_app(run: str | None = None) -> AppTest:
    """A fresh browser tab, optionally opened on a run's URL."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    if run:
        at.query_params["run"] = run
    return at.run()


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + [w.value for w in at.warning]
    parts += [s.value for s in at.success] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


def fill_new_run(at: AppTest, *, approve: str = "never", budgets: dict[str, int] | None = None) -> AppTest:
    at.file_uploader(key="new-upload").set_value(("ball.png", photo_bytes(), "image/png"))
    at.selectbox(key="new-approve").set_value(approve)
    for stage in STAGES:
        at.number_input(key=f"new-budget-{stage}").set_value((budgets or {"scaffold": 1}).get(stage, 0))
    at.number_input(key="new-loop-res").set_value(TINY["loop_resolution"])
    at.number_input(key="new-loop-samples").set_value(TINY["loop_samples"])
    at.number_input(key="new-final-res").set_value(TINY["final_resolution"])
    at.number_input(key="new-final-samples").set_value(TINY["final_samples"])
    return at.run()


def start(at: AppTest, **form) -> str:
    fill_new_run(at, **form)
    at.button(key="new-start").click().run()
    assert not at.exception, at.exception
    assert "run" in at.query_params, texts(at)
    return at.query_params["run"]


def wait_until_idle(at: AppTest, thread_id: str, timeout: float = 240) -> AppTest:
    """Poll like the page's fragment does, until the run's background job has stopped."""
    deadline = time.monotonic() + timeout
    while (job := jobs.current(thread_id, Context())) is not None and job.active:
        assert time.monotonic() < deadline, f"run {thread_id} still busy after {timeout}s"
        time.sleep(0.5)
    at.run()
    assert not at.exception, at.exception
    return at


def control(at: AppTest, kind: str, label: str):
    """The one widget of a kind with this label (approval keys carry the question, so find them by label)."""
    found = [w for w in getattr(at, kind) if w.label == label]
    assert len(found) == 1, f"expected one {kind} '{label}', found {len(found)}: {texts(at)}"
    return found[0]


def state_of(thread_id: str):
    return runs.get_run_state(thread_id, Context())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- bad input: every mistake is a sentence on the page, never a traceback, never a run ----


def test_broken_upload_is_refused_with_a_message(db):
    at = open_app()
    at.file_uploader(key="new-upload").set_value(("photo.png", b"this is not a photo", "image/png"))
    at.run()
    assert not at.exception
    assert any("not a readable image" in w.value for w in at.warning), texts(at)
    at.button(key="new-start").click().run()
    assert not at.exception
    assert any("not a readable image" in e.value for e in at.error), texts(at)
    assert runs.list_runs(Context()) == []
    assert "run" not in at.query_params


def test_missing_photo_key_url_and_budget_are_explained(db, monkeypatch):
    for variable in ("OPENAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    at = open_app()
    at.button(key="new-start").click().run()
    assert any("Upload a photo or pick an example" in e.value for e in at.error), texts(at)

    fill_new_run(at)
    at.selectbox(key="new-provider").set_value("openai").run()
    at.button(key="new-start").click().run()
    assert any("OpenAI needs an API key" in e.value for e in at.error), texts(at)
    assert at.text_input(key="new-api-key").proto.type == at.text_input(key="new-api-key").proto.PASSWORD

    at.selectbox(key="new-provider").set_value("compatible").run()
    at.text_input(key="new-model-name-compatible").set_value("qwen2.5-vl").run()
    at.button(key="new-start").click().run()
    assert any("type the URL of the OpenAI-compatible server" in e.value for e in at.error), texts(at)

    at.selectbox(key="new-provider").set_value("classical").run()
    for stage in STAGES:
        at.number_input(key=f"new-budget-{stage}").set_value(0)
    at.run()
    at.button(key="new-start").click().run()
    assert any("at least one stage a budget" in e.value for e in at.error), texts(at)
    assert not at.exception
    assert runs.list_runs(Context()) == []


def test_shipped_examples_are_offered_and_previewed(db):
    examples = example_images()
    if not examples:
        pytest.skip("no examples/*.png in this checkout")
    at = open_app()
    picker = at.selectbox(key="new-example")
    assert {path.name for path in examples} <= set(picker.options)
    picker.set_value(examples[0].name).run()
    assert not at.exception
    assert examples[0].name in {caption for img in at.image for caption in img.captions}


def test_a_file_that_is_not_a_database_is_explained(tmp_path, monkeypatch):
    not_a_database = tmp_path / "notes.sqlite"
    not_a_database.write_text("shopping list: eggs, milk\n" * 100)
    monkeypatch.setenv("SEIG_DB", str(not_a_database))
    at = open_app()
    assert not at.exception
    assert any("Cannot open the run database" in e.value for e in at.error), texts(at)


def test_unknown_run_in_the_url_is_explained(db):
    at = open_app(run="no-such-run")
    assert not at.exception
    assert any("no run with thread id 'no-such-run'" in e.value for e in at.error)


def test_provider_error_shows_in_chat_and_the_run_stays_resumable(db):
    """An OpenAI-compatible server that refuses connections: a readable error, then Continue."""
    at = open_app()
    fill_new_run(at)
    at.selectbox(key="new-provider").set_value("compatible").run()
    at.text_input(key="new-model-name-compatible").set_value("local-vlm").run()
    at.text_input(key="new-base-url").set_value(f"http://127.0.0.1:{free_port()}/v1").run()
    at.button(key="new-start").click().run()
    thread_id = at.query_params["run"]
    wait_until_idle(at, thread_id, timeout=120)
    errors = " ".join(e.value for e in at.error)
    assert "Error" in errors and "Traceback" not in errors, texts(at)
    assert at.button(key=f"continue-{thread_id}").label == "Continue"
    assert runs.list_runs(Context())[0].status == "stopped"


def test_seig_ui_refuses_a_busy_port_and_a_directory_as_database(tmp_path):
    seig = Path(sys.executable).with_name("seig")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([str(seig), "ui", "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run(
        [str(seig), "ui", "--port", str(free_port()), "--db", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "is a directory" in result.stderr and "Traceback" not in result.stderr


# ---- real runs with the offline backend ----


@pytest.mark.slow
def test_run_streams_rounds_and_ends_with_results(db):
    at = open_app()
    thread_id = start(at, budgets={"scaffold": 1})
    assert jobs.current(thread_id, Context()).active, "the run should still be working (a round takes seconds)"
    progress = at.get("progress")
    assert progress and "scaffold" in progress[0].proto.text, "no live progress line while the run works"
    wait_until_idle(at, thread_id)
    page = texts(at)
    assert "scaffold · round 1" in page
    assert "scaffold round 1" in {caption for img in at.image for caption in img.captions}, "stage render missing"
    assert "Done." in page
    downloads = {d.label for d in at.download_button}
    assert {"Download scene.py", "Download scene.blend", "Download report.json"} <= downloads
    assert state_of(thread_id).status == "done"
    sidebar = " ".join(m.value for m in at.sidebar.markdown) + " ".join(c.value for c in at.sidebar.caption)
    assert "ball.png" in sidebar and "done" in sidebar


@pytest.mark.slow
def test_approval_revise_redo_and_approve(db):
    at = open_app()
    thread_id = start(at, approve="stages", budgets={"scaffold": 1, "geometry": 1})
    wait_until_idle(at, thread_id)
    for label in ("Approve", "Redo stage", "Revise"):
        assert label in {b.label for b in at.button}, f"{label} control missing"
    assert "scaffold stage is ready for review" in texts(at)
    stale_tab = open_app(run=thread_id)  # a second tab showing the same question

    control(at, "button", "Revise").click().run()
    assert any("Write what to change" in w.value for w in at.warning)
    assert len(state_of(thread_id).history) == 1

    control(at, "text_area", "What should the coder change?").set_value("make the red ball larger")
    control(at, "button", "Revise").click().run()
    wait_until_idle(at, thread_id)
    history = state_of(thread_id).history
    assert [r.stage for r in history] == ["scaffold", "scaffold"]
    assert "human: make the red ball larger" in history[1].feedback
    assert "human: make the red ball larger" in texts(at)

    # The second tab's Approve answered the first question; it must not answer the new one.
    control(stale_tab, "button", "Approve").click().run()
    wait_until_idle(stale_tab, thread_id)
    assert len(state_of(thread_id).history) == 2 and runs.list_runs(Context())[0].status == "waiting"
    assert "human: make the red ball larger" in texts(stale_tab)

    control(at, "button", "Redo stage").click().run()
    wait_until_idle(at, thread_id)
    assert [r.stage for r in state_of(thread_id).history] == ["scaffold"] * 3
    assert "scaffold stage is ready for review" in texts(at)

    control(at, "button", "Approve").click().run()
    wait_until_idle(at, thread_id)
    assert "geometry stage is ready for review" in texts(at)
    control(at, "button", "Approve").click().run()
    wait_until_idle(at, thread_id)
    assert state_of(thread_id).status == "done"
    assert "Done." in texts(at)


@pytest.mark.slow
def test_reopened_tab_resumes_and_two_tabs_do_not_interfere(db):
    first_tab = open_app()
    waiting = start(first_tab, approve="stages", budgets={"scaffold": 1})
    wait_until_idle(first_tab, waiting)

    # A run whose server went away before it started: only the checkpoint is left.
    paused = runs.start_run(
        io_photo(db.parent), db.parent / "paused", RunSettings(budgets={"scaffold": 1}, **TINY), Context()
    )
    second_tab = open_app(run=paused)
    assert "This run is paused at its last checkpoint." in texts(second_tab)
    second_tab.button(key=f"continue-{paused}").click().run()
    # A third tab opened mid-run follows the same background job instead of starting another.
    watcher = open_app(run=paused)
    assert watcher.get("progress"), "a tab opened mid-run shows no live progress"
    assert "Continue" not in {b.label for b in watcher.button}

    # Closing the first tab and opening the run again: the approval question comes back from the checkpoint.
    reopened = open_app(run=waiting)
    assert "scaffold · round 1" in texts(reopened)
    approve = control(reopened, "button", "Approve")
    assert second_tab.query_params["run"] == paused and reopened.query_params["run"] == waiting
    approve.click().run()

    wait_until_idle(second_tab, paused)
    wait_until_idle(reopened, waiting)
    assert state_of(paused).status == "done" and state_of(waiting).status == "done"
    assert all(Path(r.program_path).is_relative_to(db.parent / "paused") for r in state_of(paused).history)
    assert "Done." in texts(reopened) and "Done." in texts(second_tab)


def io_photo(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cube.png"
    path.write_bytes(photo_bytes())
    return path


@pytest.mark.slow
def test_fork_a_checkpoint_with_another_budget(db):
    settings = RunSettings(budgets={"scaffold": 1}, **TINY)
    original = runs.start_run(io_photo(db.parent), db.parent / "original", settings, Context())
    list(runs.stream_run(original, Context()))
    before = [(c.checkpoint_id, c.step) for c in runs.run_history(original, Context())]
    assert state_of(original).status == "done"

    at = open_app(run=original)
    points = at.selectbox(key=f"fork-point-{original}")
    first_coder_step = next(label for label in points.options if label.endswith("→ coder"))
    points.set_value(first_coder_step)
    at.checkbox(key=f"fork-change-{original}").check().run()
    at.number_input(key=f"fork-{original}-budget-scaffold").set_value(2).run()
    at.button(key=f"fork-go-{original}").click().run()
    assert not at.exception, at.exception
    forked = at.query_params["run"]
    assert forked != original
    wait_until_idle(at, forked)

    fork, source = state_of(forked), state_of(original)
    assert fork.settings.budgets["scaffold"] == 2 and source.settings.budgets["scaffold"] == 1
    assert fork.status == "done" and fork.plan == source.plan  # the plan came with the checkpoint
    assert fork.history[0].round == 1 and fork.run_dir != source.run_dir
    assert all(Path(r.program_path).is_relative_to(fork.run_dir) for r in fork.history)
    assert Path(fork.outputs["scene.py"]).is_file()
    assert [(c.checkpoint_id, c.step) for c in runs.run_history(original, Context())] == before
    assert len(state_of(original).history) == 1


@pytest.mark.slow
def test_relight_a_finished_run_from_the_apps_tab(db):
    settings = RunSettings(budgets={"scaffold": 1}, **TINY)
    thread_id = runs.start_run(io_photo(db.parent), db.parent / "lit", settings, Context())
    list(runs.stream_run(thread_id, Context()))
    at = open_app(run=thread_id)
    at.radio(key=f"app-{db.parent / 'lit'}").set_value("Relight").run()
    at.selectbox(key=f"relight-preset-{db.parent / 'lit'}").set_value("studio")
    at.button(key=f"relight-go-{db.parent / 'lit'}").click().run(timeout=180)
    assert not at.exception and not at.error, texts(at)
    assert "relit_studio" in {caption for img in at.image for caption in img.captions}
    assert (db.parent / "lit" / "relit_studio.png").is_file()
    assert "Download relit_studio.py" in {d.label for d in at.download_button}


def test_edit_a_finished_run_from_the_apps_tab(db):
    settings = RunSettings(budgets={"scaffold": 1}, **TINY)
    run_dir = db.parent / "edited"
    thread_id = runs.start_run(io_photo(db.parent), run_dir, settings, Context())
    list(runs.stream_run(thread_id, Context()))
    before = (run_dir / "scene.py").read_text()
    at = open_app(run=thread_id)
    at.radio(key=f"app-{run_dir}").set_value("Edit").run()
    at.text_area(key=f"edit-text-{run_dir}").input("Ground.location.z=-0.25")
    at.button(key=f"edit-go-{run_dir}").click().run(timeout=180)
    assert not at.exception and not at.error, texts(at)
    assert any("Ground.location.z" in s.value for s in at.success), texts(at)
    after = (run_dir / "scene.py").read_text()
    assert after != before and "-0.25" in after
    assert (run_dir / "scene.prev.py").read_text() == before
