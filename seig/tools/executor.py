"""The sandboxed Blender executor: model-written programs run here and nowhere else.

A program is first checked by the static policy (``seig.tools.policy``); then it
runs in a long-lived worker process (``seig.tools.worker``) that keeps bpy
loaded, so a job costs a scene reset rather than a Blender start. The worker
runs with resource limits, in its own process group, in a scratch directory,
with an environment stripped of secrets. A job that overruns its timeout, or a
worker that dies, is killed and replaced; the caller gets an error result, never
an exception, so a broken program becomes feedback for the next round.
"""

from __future__ import annotations

import json
import os
import queue
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from seig.tools.policy import check_program

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
STARTUP_TIMEOUT = 120.0


@dataclass
class JobResult:
    """The outcome of one executor job. ``error`` is set whenever ``ok`` is False."""

    ok: bool
    error: str | None = None
    blend_path: str | None = None
    render_path: str | None = None
    scene: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    refused: bool = False
    timed_out: bool = False
    crashed: bool = False


@dataclass(frozen=True)
class RenderSpec:
    """How to render: small and fast in the loop, larger for the final image."""

    width: int
    height: int
    samples: int = 16
    seed: int = 0
    denoise: bool = True
    frame: int | None = None

    def to_job(self, path: Path) -> dict:
        job = {
            "path": str(path),
            "width": self.width,
            "height": self.height,
            "samples": self.samples,
            "seed": self.seed,
            "denoise": self.denoise,
        }
        if self.frame is not None:
            job["frame"] = self.frame
        return job


def _limit_resources(memory_mb: int, cpu_seconds: int, file_mb: int, max_processes: int):
    """Runs in the child before exec: its own session, and hard resource limits."""

    def apply() -> None:
        os.setsid()
        limits = [
            (resource.RLIMIT_AS, memory_mb * 1024 * 1024),
            (resource.RLIMIT_CPU, cpu_seconds),
            (resource.RLIMIT_FSIZE, file_mb * 1024 * 1024),
            (resource.RLIMIT_CORE, 0),
        ]
        if max_processes > 0:
            limits.append((resource.RLIMIT_NPROC, max_processes))
        for which, value in limits:
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):
                pass

    return apply


class BlenderExecutor:
    """One worker process, replaced whenever it crashes or a job times out."""

    def __init__(
        self,
        *,
        blender_binary: str | None = None,
        timeout: float = 120.0,
        memory_mb: int = 6144,
        cpu_seconds: int = 3600,
        file_mb: int = 512,
        max_processes: int = 0,
    ) -> None:
        self.blender_binary = blender_binary
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.file_mb = file_mb
        self.max_processes = max_processes
        self._proc: subprocess.Popen | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._scratch: Path | None = None
        self._lock = threading.Lock()
        self.restarts = 0

    # -- worker lifecycle -------------------------------------------------
    def _command(self) -> list[str]:
        if self.blender_binary:
            return [self.blender_binary, "-b", "--factory-startup", "--python", str(WORKER_SCRIPT)]
        return [sys.executable, "-u", str(WORKER_SCRIPT)]

    def _environment(self, scratch: Path) -> dict[str, str]:
        env = {k: os.environ[k] for k in ENV_ALLOWLIST if k in os.environ}
        env.update(HOME=str(scratch), TMPDIR=str(scratch), PYTHONNOUSERSITE="1", OMP_NUM_THREADS=str(os.cpu_count() or 1))
        return env

    def _start(self) -> None:
        self._scratch = Path(tempfile.mkdtemp(prefix="seig-worker-"))
        self._lines = queue.Queue()
        self._proc = subprocess.Popen(
            self._command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self._scratch,
            env=self._environment(self._scratch),
            text=True,
            preexec_fn=_limit_resources(self.memory_mb, self.cpu_seconds, self.file_mb, self.max_processes),
        )
        threading.Thread(target=self._pump, args=(self._proc, self._lines), daemon=True).start()
        ready = self._read(STARTUP_TIMEOUT)
        if not ready or not ready.get("ready"):
            self._kill()
            raise RuntimeError("the Blender worker did not start (is bpy installed, or is the Blender binary right?)")

    @staticmethod
    def _pump(proc: subprocess.Popen, lines: queue.Queue) -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith("{"):
                lines.put(line)
        lines.put(None)

    def _read(self, timeout: float) -> dict | None:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            return None
        return json.loads(line) if line else None

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            proc.wait(timeout=10)
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def close(self) -> None:
        with self._lock:
            self._kill()

    @property
    def worker_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    # -- jobs -------------------------------------------------------------
    def _submit(self, job: dict, timeout: float | None) -> JobResult:
        timeout = self.timeout if timeout is None else timeout
        with self._lock:
            start = time.perf_counter()
            if self._proc is None or self._proc.poll() is not None:
                self._kill()
                self._start()
            try:
                self._proc.stdin.write(json.dumps(job) + "\n")  # type: ignore[union-attr]
                self._proc.stdin.flush()  # type: ignore[union-attr]
            except (BrokenPipeError, OSError):
                self._kill()
                self.restarts += 1
                return JobResult(ok=False, error="the Blender worker died before the job started", crashed=True)
            reply = self._read(timeout)
            seconds = time.perf_counter() - start
            if reply is None:
                timed_out = self._proc is not None and self._proc.poll() is None
                code = self._proc.returncode if self._proc is not None else None
                self._kill()
                self.restarts += 1
                if timed_out:
                    return JobResult(
                        ok=False,
                        error=f"Timeout: the program did not finish within {timeout:.0f} s and was stopped",
                        timed_out=True,
                        seconds=seconds,
                    )
                return JobResult(
                    ok=False,
                    error=f"the Blender worker crashed (exit code {code}); it may have run out of memory",
                    crashed=True,
                    seconds=seconds,
                )
        return JobResult(
            ok=bool(reply.get("ok")),
            error=reply.get("error"),
            blend_path=reply.get("blend_path"),
            render_path=reply.get("render_path"),
            scene=reply.get("scene", {}),
            notes=reply.get("notes", []),
            seconds=seconds,
        )

    def run(
        self,
        program: str,
        *,
        workdir: Path | None = None,
        blend_out: Path | None = None,
        render: RenderSpec | None = None,
        render_out: Path | None = None,
        timeout: float | None = None,
    ) -> JobResult:
        """Check and run a program from an empty scene; optionally save it and render it."""
        problems = check_program(program)
        if problems:
            return JobResult(ok=False, refused=True, error="Refused by the sandbox policy: " + "; ".join(problems))
        job: dict = {"kind": "run", "code": program}
        if workdir is not None:
            job["workdir"] = str(Path(workdir).resolve())
        if blend_out is not None:
            job["blend_out"] = str(Path(blend_out).resolve())
        if render is not None:
            if render_out is None:
                raise ValueError("render_out is required with render")
            job["render"] = render.to_job(Path(render_out).resolve())
        return self._submit(job, timeout)

    def render(self, blend: Path, out: Path, spec: RenderSpec, *, timeout: float | None = None) -> JobResult:
        """Render a .blend written by a run job; no Python inside the file is run."""
        job = {"kind": "render", "blend": str(Path(blend).resolve()), "render": spec.to_job(Path(out).resolve())}
        return self._submit(job, timeout)


_shared: dict[tuple, BlenderExecutor] = {}
_shared_lock = threading.Lock()


def shared_executor(**options) -> BlenderExecutor:
    """One executor per configuration per process, so bpy is loaded once."""
    key = tuple(sorted(options.items()))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = BlenderExecutor(**options)
        return _shared[key]


def close_shared_executors() -> None:
    with _shared_lock:
        for executor in _shared.values():
            executor.close()
        _shared.clear()
