"""The sandboxed Blender executor: model-written programs run here and nowhere else.

A program is first checked by the static policy (``seig.tools.policy``); then it
runs in a long-lived worker process (``seig.tools.worker``) that keeps bpy
loaded, so a job costs a scene reset rather than a Blender start. The worker
runs inside ``seig.tools.isolation``'s sandbox: resource limits, its own session
and pids cgroup, no network, a read-only filesystem except its scratch
directory, and an environment without secrets. It therefore writes every file
into its scratch directory and the executor moves them into place. A job that
overruns its timeout is killed; a worker that dies is replaced and the job
retried (``crash_retries``); the caller gets an error result, never an
exception, so a broken program becomes feedback for the next round.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from seig.tools.isolation import Limits, Sandbox, process_alive, supported_features
from seig.tools.policy import check_program

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
STARTUP_TIMEOUT = 120.0
LOG_NAME = "worker.log"
SCRATCH_PREFIX = "seig-worker-"
WORKER_GONE: dict = {"ok": False, "gone": True}


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
    # The denoiser's fast prefilter halves a loop-sized render (0.44 -> 0.21 s at 128 px, 16 samples)
    # and costs about 1 dB against a 1024-sample reference, at 46-47 dB: far below what the loop compares.
    quick_denoise: bool = False
    frame: int | None = None

    def to_job(self, path: Path) -> dict:
        job = {
            "path": str(path),
            "width": self.width,
            "height": self.height,
            "samples": self.samples,
            "seed": self.seed,
            "denoise": self.denoise,
            "quick_denoise": self.quick_denoise,
        }
        if self.frame is not None:
            job["frame"] = self.frame
        return job


CRASH_SIGNALS = {
    signal.SIGXCPU: "it used up its CPU-time limit",
    signal.SIGKILL: "it was killed (out of memory, or from outside)",
    signal.SIGSEGV: "it crashed (segmentation fault); it may have run out of memory",
    signal.SIGABRT: "it aborted; it may have run out of memory",
    signal.SIGBUS: "it crashed (bus error)",
    signal.SIGXFSZ: "it exceeded the file-size limit",
}


def crash_reason(returncode: int | None) -> str:
    """Why the worker died, in words, from its exit status."""
    if returncode is None:
        return "it stopped answering"
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return f"it died from signal {-returncode}"
        return CRASH_SIGNALS.get(sig, f"it died from {sig.name}")
    return f"it exited with code {returncode}"


def _remove_stale_scratch() -> None:
    """Scratch directories of seig processes that were killed before they could clean up."""
    for scratch in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        owner = scratch.name[len(SCRATCH_PREFIX) :].split("-")[0]
        if owner.isdigit() and not process_alive(int(owner)):
            shutil.rmtree(scratch, ignore_errors=True)


class BlenderExecutor:
    """One sandboxed worker process, replaced whenever it crashes or a job times out."""

    def __init__(
        self,
        *,
        blender_binary: str | None = None,
        timeout: float = 120.0,
        memory_mb: int = 6144,
        cpu_seconds: int = 3600,
        file_mb: int = 512,
        max_processes: int = 256,
        crash_retries: int = 1,
        isolate: bool = True,
    ) -> None:
        self.blender_binary = blender_binary
        self.timeout = timeout
        self.limits = Limits(memory_mb=memory_mb, cpu_seconds=cpu_seconds, file_mb=file_mb, max_processes=max_processes)
        self.crash_retries = crash_retries
        self.isolate = isolate
        self._proc: subprocess.Popen | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._scratch: Path | None = None
        self._sandbox: Sandbox | None = None
        self._jobs = 0
        self._lock = threading.Lock()
        self.restarts = 0
        _live.add(self)

    # -- worker lifecycle -------------------------------------------------
    def _command(self) -> list[str]:
        if self.blender_binary:
            return [self.blender_binary, "-b", "--factory-startup", "--python", str(WORKER_SCRIPT)]
        return [sys.executable, "-u", str(WORKER_SCRIPT)]

    def _environment(self, scratch: Path) -> dict[str, str]:
        """An allowlist, not a denylist: API keys and tokens never reach the worker."""
        env = {k: os.environ[k] for k in ENV_ALLOWLIST if k in os.environ}
        env.update(HOME=str(scratch), TMPDIR=str(scratch), PYTHONNOUSERSITE="1")
        env["OMP_NUM_THREADS"] = str(os.cpu_count() or 1)
        return env

    @property
    def features(self) -> frozenset[str]:
        """The OS isolation features applied to the worker (see ``seig.tools.isolation``)."""
        return supported_features() if self.isolate else frozenset()

    def _start(self) -> None:
        _remove_stale_scratch()
        self._scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")).resolve()
        (self._scratch / "out").mkdir()
        self._lines = queue.Queue()
        extra = [str(WORKER_SCRIPT.parent)]
        if self.blender_binary:
            extra.append(os.path.dirname(os.path.realpath(shutil.which(self.blender_binary) or self.blender_binary)))
        self._sandbox = Sandbox(self._scratch, self.limits, self.features, read_paths=tuple(extra))
        with open(self._scratch / LOG_NAME, "ab") as log:
            self._proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=self._scratch,
                env=self._environment(self._scratch),
                text=True,
                preexec_fn=self._sandbox.preexec,
            )
        threading.Thread(target=self._pump, args=(self._proc, self._lines), daemon=True).start()
        ready = self._read(STARTUP_TIMEOUT)
        if ready is None or not ready.get("ready"):
            tail = self._log_tail()
            self._kill()
            raise RuntimeError(
                "the Blender worker did not start (is bpy installed, or is the Blender binary right?)" + tail
            )

    @staticmethod
    def _pump(proc: subprocess.Popen, lines: queue.Queue) -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith("{"):
                lines.put(line)
        lines.put(None)

    def _read(self, timeout: float) -> dict | None:
        """The worker's next message; None on timeout, WORKER_GONE when its pipe closed."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            return None
        return json.loads(line) if line else WORKER_GONE

    def _log_tail(self) -> str:
        """The last line Blender printed, which often names the real trouble (e.g. out of memory)."""
        if self._scratch is None:
            return ""
        try:
            lines = (self._scratch / LOG_NAME).read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f"; its last words: {lines[-1].strip()[:200]}" if lines else ""

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            proc.wait(timeout=10)
        if self._sandbox is not None:
            self._sandbox.cleanup()
            self._sandbox = None
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
    def _submit(self, job: dict, timeout: float | None, outputs: dict[str, Path] | None = None) -> JobResult:
        """Send a job, retrying on a fresh worker if the old one crashed; move outputs into place."""
        timeout = self.timeout if timeout is None else timeout
        outputs = outputs or {}
        with self._lock:
            start = time.perf_counter()
            for attempt in range(self.crash_retries + 1):
                result = self._attempt(job, timeout, outputs)
                if not result.crashed or attempt == self.crash_retries:
                    break
            result.seconds = time.perf_counter() - start
            if result.ok:
                self._deliver(result, outputs)
            if self._scratch is not None:
                for leftover in (self._scratch / "out").iterdir():
                    leftover.unlink()
            return result

    def _attempt(self, job: dict, timeout: float, outputs: dict[str, Path]) -> JobResult:
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            self._start()
        self._jobs += 1
        staging = self._scratch / "out"  # type: ignore[operator]
        staged = {key: staging / f"job{self._jobs}{dest.suffix}" for key, dest in outputs.items()}
        sent = dict(job)
        if "blend" in job:  # the worker can read only its scratch directory, so it gets a copy
            sent["blend"] = str(staging / f"job{self._jobs}-input.blend")
            try:
                shutil.copyfile(job["blend"], sent["blend"])
            except OSError as exc:
                return JobResult(ok=False, error=f"could not read {job['blend']}: {exc.strerror or exc}")
        for key, path in staged.items():
            if key == "render":
                sent["render"] = dict(job["render"], path=str(path))
            else:
                sent[key] = str(path)
        os.truncate(self._scratch / LOG_NAME, 0)  # type: ignore[operator]
        try:
            self._proc.stdin.write(json.dumps(sent) + "\n")  # type: ignore[union-attr]
            self._proc.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            code = self._proc.poll() if self._proc else None
            self._kill()
            self.restarts += 1
            error = f"the Blender worker died before the job started: {crash_reason(code)}"
            return JobResult(ok=False, error=error, crashed=True)
        reply = self._read(timeout)
        if reply is None or reply is WORKER_GONE:
            timed_out = reply is None
            tail = "" if timed_out else self._log_tail()
            code = self._proc.wait(timeout=10) if self._proc is not None and not timed_out else None
            self._kill()
            self.restarts += 1
            if timed_out:
                return JobResult(
                    ok=False,
                    error=f"Timeout: the program did not finish within {timeout:.0f} s and was stopped",
                    timed_out=True,
                )
            return JobResult(ok=False, error=f"the Blender worker died: {crash_reason(code)}{tail}", crashed=True)
        result = JobResult(
            ok=bool(reply.get("ok")),
            error=reply.get("error"),
            blend_path=reply.get("blend_path"),
            render_path=reply.get("render_path"),
            scene=reply.get("scene", {}),
            notes=reply.get("notes", []),
            refused=bool(reply.get("refused")),
        )
        if result.ok:
            result.blend_path = str(staged["blend_out"]) if "blend_out" in staged else None
            result.render_path = str(staged["render"]) if "render" in staged else None
        return result

    @staticmethod
    def _deliver(result: JobResult, outputs: dict[str, Path]) -> None:
        """Move the worker's files (written in its scratch) to where the caller wants them."""
        for key, attr in (("blend_out", "blend_path"), ("render", "render_path")):
            if key not in outputs:
                continue
            dest = outputs[key]
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(getattr(result, attr), dest)
            except OSError as exc:
                result.ok, result.error = False, f"could not write {dest}: {exc.strerror or exc}"
                return
            setattr(result, attr, str(dest))

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
        outputs: dict[str, Path] = {}
        if workdir is not None:
            job["workdir"] = str(Path(workdir).resolve())
        if blend_out is not None:
            outputs["blend_out"] = Path(blend_out).resolve()
        if render is not None:
            if render_out is None:
                raise ValueError("render_out is required with render")
            outputs["render"] = Path(render_out).resolve()
            job["render"] = render.to_job(outputs["render"])
        return self._submit(job, timeout, outputs)

    def render(self, blend: Path, out: Path, spec: RenderSpec, *, timeout: float | None = None) -> JobResult:
        """Render a .blend written by a run job; no Python inside the file is run."""
        out = Path(out).resolve()
        job = {"kind": "render", "blend": str(Path(blend).resolve()), "render": spec.to_job(out)}
        return self._submit(job, timeout, {"render": out})


_live: weakref.WeakSet[BlenderExecutor] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """No worker, scratch directory or cgroup outlives the process that started it."""
    for executor in list(_live):
        executor.close()


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
