"""Crash safety: a reconstruction killed with SIGKILL resumes with every finished round kept."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from seig import runs
from seig.context import Context
from seig.ui.run_view import load_view

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shapes.png"
SMALL = ["--resolution", "48", "--samples", "4", "--final-resolution", "64", "--final-samples", "4"]
BUDGET = ["--budget", "scaffold=2", "--budget", "geometry=2", "--budget", "materials=1"]
BUDGET += ["--budget", "composition=0", "--budget", "lighting=0"]


def seig_process(*args: str, db: Path) -> subprocess.Popen:
    env = dict(os.environ, SEIG_DB=str(db), COLUMNS="200")
    return subprocess.Popen(
        [sys.executable, "-m", "seig", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


def rounds_done(db: Path, thread: str) -> int:
    try:
        return len(runs.get_run_state(thread, Context(db_path=db)).history)
    except runs.RunNotFound:
        return 0


def kill_after_rounds(proc: subprocess.Popen, db: Path, thread: str, rounds: int) -> None:
    """SIGKILL the run once it has finished ``rounds`` rounds, while holding SQLite's write lock.

    Holding the lock freezes the checkpoints between looking at them and killing, so the kill
    always lands mid-run however late this process is scheduled (a fast run once got to its end first).
    """
    deadline = time.monotonic() + 240
    while True:
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "the run made no progress"
        if rounds_done(db, thread) >= 1:  # the checkpoint tables exist and this process has opened them
            lock = sqlite3.connect(db, isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
            try:
                if rounds_done(db, thread) >= rounds:
                    assert runs.list_runs(Context(db_path=db))[0].status == "stopped", "the run ended before the kill"
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=30)
                    return
            finally:
                lock.rollback()
                lock.close()
        time.sleep(0.1)


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_keeps_finished_rounds(tmp_path):
    db, out, thread = tmp_path / "db.sqlite", tmp_path / "run", "killed-run"
    proc = seig_process("reconstruct", str(EXAMPLE), "--out", str(out), "--thread", thread, *SMALL, *BUDGET, db=db)
    kill_after_rounds(proc, db, thread, rounds=2)
    assert proc.returncode == -signal.SIGKILL

    ctx = Context(db_path=db)
    before = runs.get_run_state(thread, ctx).history
    assert len(before) >= 2
    stamps = {r.program_path: os.stat(r.program_path).st_mtime_ns for r in before}
    assert runs.list_runs(ctx)[0].status == "stopped"

    resumed = seig_process("resume", thread, db=db)
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, output
    after = runs.get_run_state(thread, ctx)
    assert after.status == "done"
    assert [r.model_dump() for r in after.history[: len(before)]] == [r.model_dump() for r in before]
    assert len(after.history) > len(before)
    assert {p: os.stat(p).st_mtime_ns for p in stamps} == stamps  # finished rounds were not redone
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["rounds"] == len(after.history) and (out / "scene.py").exists()


def test_a_database_held_by_another_process_is_waited_for(tmp_path):
    """A writer that holds the database for a while delays a run; it does not break or corrupt it."""
    from tests.test_engine import PLAN, RED, verdict  # noqa: F401  (shared scene and replies)
    from tests.fakes import ScriptedChatModel, code_reply, structured_reply
    from tests.test_engine import settings

    target = tmp_path / "t.png"
    Image.new("RGB", (48, 36), (150, 60, 60)).save(target)
    db = tmp_path / "db.sqlite"
    ctx = Context(db_path=db, chat_model=ScriptedChatModel([structured_reply(PLAN), code_reply(RED), verdict(True)]))
    thread = runs.start_run(target, tmp_path / "run", settings(budgets={"scaffold": 1}), ctx)

    holder = sqlite3.connect(db, timeout=30, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    released = threading.Event()

    def release_later():
        time.sleep(2.0)
        holder.rollback()
        holder.close()
        released.set()

    threading.Thread(target=release_later, daemon=True).start()
    events = runs.drive(thread, ctx)
    assert released.is_set()
    assert events[-1]["type"] == "done", events[-1]
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_run_seen_before_its_input_is_written_is_not_yet_a_run(tmp_path):
    """The checkpoint LangGraph writes before the input holds only defaults; readers polling then see no run."""
    from tests.test_engine import settings

    target = tmp_path / "t.png"
    Image.new("RGB", (48, 36), (150, 60, 60)).save(target)
    db = tmp_path / "db.sqlite"
    ctx = Context(db_path=db)
    thread = runs.start_run(target, tmp_path / "run", settings(), ctx)
    with sqlite3.connect(db) as conn:  # keep only the first checkpoint, without the input, as a poller can find it
        conn.execute("DELETE FROM checkpoints WHERE checkpoint_id != (SELECT MIN(checkpoint_id) FROM checkpoints)")
        conn.execute("DELETE FROM writes")
    runs._graphs.clear()  # read the database afresh
    with pytest.raises(runs.RunNotFound):
        runs.get_run_state(thread, ctx)
    assert runs.list_runs(ctx) == []
    with pytest.raises(runs.RunNotFound):
        load_view(thread, ctx)
