"""Runs executing in background threads, at most one per run, shared by every tab of the server.

Streamlit re-executes the page script on every redraw, so a run cannot live in
the script: it lives here, and pages only read what a job has reported. The
job holds nothing essential: each round and each decision is already in the
checkpointer, so a lost job (server restart, closed tab) only loses the live
progress line, and the run continues from its last checkpoint.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from seig import runs
from seig.context import Context


@dataclass
class Job:
    """What one streaming pass of a run has reported: its latest progress and its error, if any.

    Rounds, questions and outputs are not kept here: pages read them from the checkpointer.
    """

    thread_id: str
    progress: dict | None = None
    progress_at: float = field(default_factory=time.monotonic)
    error: str | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def seconds_in_step(self) -> float:
        """How long the current node has been working (a render can take a while)."""
        return time.monotonic() - self.progress_at

    def record(self, event: dict) -> None:
        if event.get("type") == "progress":
            self.progress, self.progress_at = event, time.monotonic()
        elif event.get("type") == "error":
            self.error = str(event.get("message") or "the run failed")


_jobs: dict[tuple[str, str], Job] = {}
_lock = threading.Lock()


def _key(thread_id: str, ctx: Context) -> tuple[str, str]:
    return (str(Path(ctx.db_path).expanduser().resolve()), thread_id)


def current(thread_id: str, ctx: Context) -> Job | None:
    """The latest job of this run in this server process, running or finished."""
    with _lock:
        return _jobs.get(_key(thread_id, ctx))


def launch(thread_id: str, ctx: Context, resume: dict | None = None) -> Job:
    """Stream the run in a background thread, unless it is already streaming (then that job is returned)."""
    with _lock:
        existing = _jobs.get(_key(thread_id, ctx))
        if existing is not None and existing.active:
            return existing
        job = Job(thread_id=thread_id)
        job._thread = threading.Thread(target=_drive, args=(job, ctx, resume), name=f"seig-run-{thread_id}", daemon=True)
        _jobs[_key(thread_id, ctx)] = job
        job._thread.start()
        return job


def _drive(job: Job, ctx: Context, resume: dict | None) -> None:
    # Any failure becomes a message on the page; the checkpoint before it stays resumable.
    try:
        for event in runs.stream_run(job.thread_id, ctx, resume=resume):
            job.record(event)
    except Exception as exc:  # noqa: BLE001 - shown to the user, never swallowed silently
        job.record({"type": "error", "message": f"{exc.__class__.__name__}: {exc}"})
