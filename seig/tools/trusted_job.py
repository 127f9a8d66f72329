"""Trusted seig jobs that need what the sandbox refuses: baking, many renders, exporting.

The scene program never runs here. The sandbox has already run it and saved a
``.blend``; this process opens that file with ``use_scripts=False`` (so no
Python inside it runs) and applies seig's own code to it. It runs as a separate
process (``python -m seig.tools.trusted_job``) so bpy never enters the main seig
process, with a timeout, in its own process group.

Protocol: one JSON job on stdin, ``{"kind": ..., "blend": ..., ...}``; JSON lines
on stdout: ``{"progress": i, "total": n}`` while working, then one
``{"ok": true, "result": {...}}`` or ``{"ok": false, "error": "..."}``.
Handlers are ``blender_job(bpy, job, progress)`` functions in ``seig.apps``.
"""

from __future__ import annotations

import importlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR")  # no API keys or other secrets
HANDLERS = {
    "inspect": "seig.apps.inspect",
    "simulate": "seig.apps.simulate",
    "orbit": "seig.apps.orbit",
    "export": "seig.apps.export",
}

Progress = Callable[[int, int], None]


class TrustedJobError(RuntimeError):
    """A trusted job failed or timed out; the message is one line for the user."""


def run_trusted(job: dict, *, timeout: float, on_progress: Progress | None = None) -> dict:
    """Run one job in a fresh bpy process and return its result, raising TrustedJobError on failure."""
    if job.get("kind") not in HANDLERS:
        raise ValueError(f"unknown trusted job kind: {job.get('kind')!r}")
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "seig.tools.trusted_job"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={k: os.environ[k] for k in ENV_ALLOWLIST if k in os.environ},
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith("{"):
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        proc.stdin.write(json.dumps(job) + "\n")  # type: ignore[union-attr]
        proc.stdin.close()  # type: ignore[union-attr]
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TrustedJobError(f"the {job['kind']} job did not finish within {timeout:.0f} s and was stopped")
            if line is None:
                proc.wait(timeout=10)
                raise TrustedJobError(f"the {job['kind']} job's Blender process died (exit code {proc.returncode})")
            message = json.loads(line)
            if "progress" in message:
                if on_progress is not None:
                    on_progress(int(message["progress"]), int(message["total"]))
                continue
            if not message.get("ok"):
                raise TrustedJobError(message.get("error") or f"the {job['kind']} job failed")
            return message.get("result", {})
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        proc.wait(timeout=10)


def open_blend(bpy, path: str) -> None:
    """Open a sandbox-written .blend without running any Python stored in it."""
    bpy.ops.wm.open_mainfile(filepath=str(Path(path).resolve()), load_ui=False, use_scripts=False)


def main() -> None:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # Blender prints render chatter on stdout; keep the protocol pipe clean
    sys.stdout = sys.stderr

    def send(message: dict) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    try:
        job = json.loads(sys.stdin.readline())
        import bpy

        handler = importlib.import_module(HANDLERS[job["kind"]]).blender_job
        open_blend(bpy, job["blend"])
        result = handler(bpy, job, lambda i, n: send({"progress": i, "total": n}))
        send({"ok": True, "result": result})
    except BaseException as exc:  # reported to the parent as one line
        send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
