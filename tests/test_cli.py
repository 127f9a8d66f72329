"""The CLI's bad-input paths: one clear line, a non-zero exit, no traceback, nothing recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image


def seig(*args: str, tmp_path: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    environment.update(SEIG_DB=str(tmp_path / "db.sqlite"), COLUMNS="200", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "seig", *args], capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=120
    )


def assert_clean_failure(result: subprocess.CompletedProcess, *phrases: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    for phrase in phrases:
        assert phrase in output, output


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (120, 90, 60)).save(path)
    return path


def test_missing_file(tmp_path):
    assert_clean_failure(seig("reconstruct", "nope.png", "--out", "o", tmp_path=tmp_path), "no such file")


def test_not_an_image(tmp_path):
    (tmp_path / "notes.png").write_text("hello, I am text")
    assert_clean_failure(seig("reconstruct", "notes.png", "--out", "o", tmp_path=tmp_path), "not a readable image")


def test_truncated_image(tmp_path, photo):
    big = tmp_path / "big.png"
    Image.effect_noise((200, 200), 50).convert("RGB").save(big)
    data = big.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    assert_clean_failure(seig("reconstruct", "cut.png", "--out", "o", tmp_path=tmp_path), "truncated")


@pytest.mark.parametrize(
    "options, phrase",
    [
        (["--mode", "sideways"], "--mode must be staged or monolithic"),
        (["--approve", "sometimes"], "--approve must be never, stages or final"),
        (["--budget", "sculpting=3"], "--budget takes STAGE=N"),
        (["--budget", "geometry=many"], "--budget takes STAGE=N"),
        (["--budget", "geometry=-1"], "N a number of rounds, 0 or more"),
        (["--model", "nonsense:thing"], "nonsense:thing"),
        (["--model", "openai:gpt-4o"], "OPENAI_API_KEY"),
        (["--model", "google_genai:gemini-2.5-flash"], "GOOGLE_API_KEY"),
    ],
)
def test_bad_options(tmp_path, photo, options, phrase):
    result = seig("reconstruct", str(photo), "--out", "o", *options, tmp_path=tmp_path)
    assert_clean_failure(result, phrase)
    assert not (tmp_path / "o" / "target.png").exists()


def test_nothing_is_recorded_after_bad_input(tmp_path):
    seig("reconstruct", "nope.png", "--out", "o", tmp_path=tmp_path)
    listing = seig("runs", tmp_path=tmp_path)
    assert listing.returncode == 0 and "nope" not in listing.stdout


@pytest.mark.parametrize("command", [["resume", "ghost-run"], ["history", "ghost-run"], ["fork", "ghost-run", "--checkpoint", "x"]])
def test_unknown_thread(tmp_path, command):
    assert_clean_failure(seig(*command, tmp_path=tmp_path), "ghost-run")


def test_a_summary_of_a_run_that_did_not_finish_exits_1_with_the_way_to_resume(tmp_path, photo, capsys):
    """A stream can end without the run being done (a checkpoint write failed): say so, never 'done'."""
    import typer

    from seig import runs
    from seig.cli.reconstruct import print_summary
    from seig.context import Context
    from seig.state.state import RunSettings

    ctx = Context(db_path=tmp_path / "db.sqlite")
    thread = runs.start_run(photo, tmp_path / "run", RunSettings(), ctx)  # its last checkpoint: before the planner
    with pytest.raises(typer.Exit) as stopped:
        print_summary(thread, ctx)
    assert stopped.value.exit_code == 1
    output = capsys.readouterr()
    assert f"seig resume {thread}" in output.out + output.err
    assert "done" not in output.out
