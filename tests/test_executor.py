"""The sandboxed executor with real bpy: normal jobs, faults, and a corpus of hostile programs.

Hostile programs the policy refuses are also run *with the policy skipped*
(``_submit``, a test-only path) to show the worker's guarded namespace, its
audit hook and the operating-system sandbox stop them on their own.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seig.tools import worker
from seig.tools.executor import BlenderExecutor, RenderSpec, shared_executor
from seig.tools.isolation import Limits, Sandbox, supported_features
from seig.tools.policy import ALLOWED_IMPORTS, check_program

HOSTILE = sorted((Path(__file__).parent / "hostile").glob("*.py"))
CANARY_TEXT = "SEIG-CANARY-7f3a9"
FAKE_KEY = "sk-SEIG-FAKE-SECRET-0042"
CUBE = "import bpy\nbpy.ops.mesh.primitive_cube_add()\n"
RED_PLANE = """
import bpy
bpy.ops.mesh.primitive_plane_add(size=4)
mat = bpy.data.materials.new("red")
tree = mat.node_tree
tree.nodes.clear()
glow = tree.nodes.new("ShaderNodeEmission")
glow.inputs["Color"].default_value = (1, 0, 0, 1)
out = tree.nodes.new("ShaderNodeOutputMaterial")
tree.links.new(glow.outputs[0], out.inputs[0])
bpy.context.object.data.materials.append(mat)
bpy.ops.object.camera_add(location=(0, 0, 3))
bpy.context.scene.camera = bpy.context.object
"""
TINY = RenderSpec(32, 32, samples=4)


def header(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text().splitlines():
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        fields[key] = value
    return fields


class Listener:
    """A TCP server on the host's loopback that counts connections: a sandboxed job must make none."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def secret_env():
    """A fake API key in the parent's environment, as a real run would have."""
    os.environ["OPENAI_API_KEY"] = FAKE_KEY
    yield
    os.environ.pop("OPENAI_API_KEY", None)


@pytest.fixture(scope="module")
def executor(secret_env):
    ex = BlenderExecutor(timeout=30, memory_mb=3072, file_mb=16, max_processes=64, crash_retries=1)
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Things outside the run directory that hostile programs aim at."""
    root = tmp_path_factory.mktemp("hostile")
    outside = root / "outside"
    outside.mkdir()
    canary = root / "canary.txt"
    canary.write_text(CANARY_TEXT)
    evil = root / "evil.py"
    evil.write_text(f"open({str(outside / 'ran')!r}, 'w').write('ran')\n")
    victim = subprocess.Popen(["sleep", "600"])
    listener = Listener()
    yield {
        "@OUTSIDE@": str(outside),
        "@CANARY@": str(canary),
        "@EVILPY@": str(evil),
        "@PORT@": str(listener.port),
        "@PPID@": str(os.getpid()),
        "@VICTIM@": str(victim.pid),
        "outside": outside,
        "listener": listener,
        "victim": victim,
        "root": root,
    }
    listener.close()
    victim.kill()
    victim.wait()


def materialise(path: Path, world: dict) -> str:
    code = path.read_text()
    for key, value in world.items():
        if key.startswith("@"):
            code = code.replace(key, value)
    return code


def session_members(leader: int) -> list[int]:
    """Processes in the worker's session other than the worker: there should be none."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != leader:
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) == leader:  # session id
                members.append(int(entry))
    return members


def run_unchecked(executor: BlenderExecutor, code: str, run_dir: Path, timeout: float):
    """A run job that skips the static policy: only the worker and the OS sandbox stand in the way."""
    outputs = {"blend_out": run_dir / "scene.blend", "render": run_dir / "render.png"}
    job = {
        "kind": "run",
        "code": code,
        "workdir": str(run_dir),
        "render": RenderSpec(16, 16, samples=1).to_job(outputs["render"]),
    }
    return executor._submit(job, timeout, outputs)


def test_corpus_is_large_and_labelled():
    assert len(HOSTILE) >= 40
    for path in HOSTILE:
        fields = header(path)
        assert fields.get("attack") and fields.get("policy") in ("refuse", "allow") and fields.get("runtime"), path.name


@pytest.mark.parametrize("path", HOSTILE, ids=[p.stem for p in HOSTILE])
def test_hostile_program_is_contained(path, executor, world, tmp_path):
    fields = header(path)
    code = materialise(path, world)
    timeout = 3 if fields["runtime"] == "Timeout" else 20
    if fields["policy"] == "refuse":
        refused = executor.run(code, workdir=tmp_path)
        assert refused.refused and not refused.ok and "line" in refused.error
        if not {"filesystem", "landlock"} & executor.features:
            pytest.skip("no OS filesystem isolation on this machine: only the policy stands (see SECURITY.md)")
        result = run_unchecked(executor, code, tmp_path, timeout)
    else:
        assert check_program(code) == []
        result = executor.run(
            code, workdir=tmp_path, render=RenderSpec(16, 16, samples=1), render_out=tmp_path / "render.png", timeout=timeout
        )
    expected = fields["runtime"].split(" | ")  # alternatives: which layer stops a resource bomb can vary
    said = f"{result.error or ''} {' '.join(result.notes)}"
    if expected == ["ok"]:
        assert result.ok, result.error
    elif expected != ["contained"]:
        assert not result.ok or "clamped" in said, said
        if expected != ["error"]:
            assert any(e in said for e in expected), said
    leaked = repr(result)
    assert CANARY_TEXT not in leaked and FAKE_KEY not in leaked
    assert list(world["outside"].iterdir()) == []
    assert world["listener"].connections == 0
    assert world["victim"].poll() is None
    pid = executor.worker_pid
    assert pid is None or session_members(pid) == []
    assert [p.name for p in tmp_path.iterdir() if p.name not in ("scene.blend", "render.png")] == []
    after = executor.run(CUBE, timeout=30)
    assert after.ok, after.error


def test_red_emissive_plane_renders_red(executor, tmp_path):
    result = executor.run(RED_PLANE, blend_out=tmp_path / "s.blend", render=TINY, render_out=tmp_path / "r.png")
    assert result.ok, result.error
    assert result.render_path == str(tmp_path / "r.png") and result.blend_path == str(tmp_path / "s.blend")
    pixels = np.asarray(Image.open(tmp_path / "r.png").convert("RGB"), dtype=float)
    red, green, blue = pixels.reshape(-1, 3).mean(axis=0)
    assert red > 240 and green < 10 and blue < 10
    assert {o["type"] for o in result.scene["objects"]} == {"MESH", "CAMERA"}
    again = executor.render(tmp_path / "s.blend", tmp_path / "again.png", TINY)
    assert again.ok, again.error
    assert np.asarray(Image.open(tmp_path / "again.png").convert("RGB"))[..., 0].mean() > 240


def test_python_exception_reports_the_line(executor):
    result = executor.run("import bpy\nx = 1\ny = x / 0\n")
    assert not result.ok and not result.refused
    assert "ZeroDivisionError" in result.error and "line 3: y = x / 0" in result.error


def test_syntax_error_is_refused_with_its_line(executor):
    result = executor.run("import bpy\nbpy.ops.mesh.primitive_cube_add(\n")
    assert result.refused and "line" in result.error and "SyntaxError" in result.error
    unchecked = executor._submit({"kind": "run", "code": "x = (\n"}, 20)
    assert not unchecked.ok and unchecked.error.startswith("SyntaxError")


def test_timeout_kills_the_worker_and_the_next_job_runs(executor):
    executor.run(CUBE)
    before = executor.worker_pid
    result = executor.run("while True:\n    pass\n", timeout=2)
    assert result.timed_out and not result.ok and "Timeout" in result.error
    after = executor.run(CUBE)
    assert after.ok and executor.worker_pid != before
    assert not Path(f"/proc/{before}").exists()


def _kill_when_busy(executor: BlenderExecutor, delay: float, killed: list[int]) -> None:
    time.sleep(delay)
    pid = executor.worker_pid
    if pid:
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)


@pytest.mark.parametrize("retries", [1, 0])
def test_worker_killed_mid_job_is_replaced(retries, tmp_path):
    ex = BlenderExecutor(timeout=30, crash_retries=retries)
    try:
        ex.run(CUBE)
        killed: list[int] = []
        killer = threading.Thread(target=_kill_when_busy, args=(ex, 0.7, killed))
        killer.start()
        result = ex.run(CUBE + "import time\ntime.sleep(2)\n", render=TINY, render_out=tmp_path / "r.png")
        killer.join()
        assert killed and ex.restarts == 1
        if retries:
            assert result.ok and (tmp_path / "r.png").exists() and ex.worker_pid != killed[0]
        else:
            assert result.crashed and "killed" in result.error
            assert ex.run(CUBE).ok
    finally:
        ex.close()


def test_worker_environment_has_no_secrets(executor):
    assert os.environ["OPENAI_API_KEY"] == FAKE_KEY
    executor.run(CUBE)
    environ = Path(f"/proc/{executor.worker_pid}/environ").read_bytes().split(b"\0")
    names = {item.split(b"=", 1)[0].decode() for item in environ if item}
    assert "OPENAI_API_KEY" not in names and FAKE_KEY.encode() not in b"".join(environ)
    assert names <= {"PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR", "PYTHONNOUSERSITE", "OMP_NUM_THREADS"}


def test_disk_full_gives_a_clear_error(executor, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root")
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(full)]).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        with open(full / "filler", "wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        result = executor.run(RED_PLANE, blend_out=full / "s.blend", render=TINY, render_out=full / "r.png")
        assert not result.ok and "No space left on device" in result.error
        assert executor.run(CUBE).ok
    finally:
        subprocess.run(["umount", str(full)], check=True)


def test_shared_executor_is_reused():
    a = shared_executor(timeout=11.0)
    assert shared_executor(timeout=11.0) is a and shared_executor(timeout=12.0) is not a


def test_policy_and_worker_allow_the_same_imports():
    assert ALLOWED_IMPORTS == worker.ALLOWED_MODULES


def test_render_size_is_clamped_to_the_worker_limits(executor, tmp_path):
    result = executor.run(RED_PLANE, render=RenderSpec(2, 3, samples=1), render_out=tmp_path / "r.png")
    assert result.ok, result.error
    assert Image.open(tmp_path / "r.png").size == (8, 8)


SHADED_SPHERE = """
import bpy
bpy.ops.mesh.primitive_uv_sphere_add(radius=1, segments=24, ring_count=12)
bpy.ops.object.light_add(type="SUN", rotation=(0.6, 0.3, 0))
bpy.ops.object.camera_add(location=(0, -5, 1), rotation=(1.4, 0, 0))
bpy.context.scene.camera = bpy.context.object
"""


def test_quick_denoise_changes_the_render_only_slightly(executor, tmp_path):
    images = {}
    for quick in (False, True):
        out = tmp_path / f"quick_{quick}.png"
        result = executor.run(SHADED_SPHERE, render=RenderSpec(48, 48, samples=4, quick_denoise=quick), render_out=out)
        assert result.ok, result.error
        images[quick] = np.asarray(Image.open(out).convert("RGB"), dtype=float) / 255
    error = float(np.mean((images[True] - images[False]) ** 2))
    assert 0 < error < 1e-3, "the fast prefilter is another denoise of the same noise, not another picture"


# -- the operating-system layer on its own, with code that bypasses both Python layers --------------


def sandboxed_python(code: str, tmp_path: Path, limits: Limits, timeout: float = 60):
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    sandbox = Sandbox(scratch, limits)
    output = tmp_path / "output.txt"
    try:
        with open(output, "w") as sink:  # a file, not a pipe: forked children must not hold us up
            proc = subprocess.run(
                [sys.executable, "-c", code],
                preexec_fn=sandbox.preexec,
                cwd=scratch,
                env={"PATH": os.environ["PATH"]},
                stdout=sink,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        proc.stdout = output.read_text()
        left = (sandbox.cgroup / "cgroup.procs").read_text().split() if sandbox.cgroup else []
    finally:
        sandbox.cleanup()
    return proc, left


def test_sandbox_features_on_this_machine():
    features = supported_features()
    print("isolation features:", sorted(features))
    if sys.platform == "linux" and os.geteuid() == 0:
        assert {"network", "filesystem", "pids_cgroup"} <= features


def test_fork_bomb_is_stopped_by_the_process_limit(tmp_path):
    if "pids_cgroup" not in supported_features() and os.geteuid() == 0:
        pytest.skip("no pids cgroup, and RLIMIT_NPROC does not bind root")
    code = (
        "import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n            time.sleep(60)\n"
        "            os._exit(0)\n        n += 1\nexcept OSError as exc:\n    print(n, exc.errno)\n"
    )
    proc, left = sandboxed_python(code, tmp_path, Limits(memory_mb=1024, max_processes=40))
    forks, errno = proc.stdout.split()
    assert 0 < int(forks) < 40 and int(errno) == 11  # EAGAIN
    assert left  # the sleeping children were still there, and cleanup killed them


def test_no_network_and_read_only_filesystem(tmp_path):
    features = supported_features()
    listener = Listener()
    secret = tmp_path / "secret.txt"
    secret.write_text(CANARY_TEXT)
    outside = tmp_path / "outside"
    outside.mkdir()
    code = f"""
import socket
for what, act in [
    ("connect", lambda: socket.create_connection(("127.0.0.1", {listener.port}), timeout=2)),
    ("write", lambda: open({str(outside / 'x')!r}, "w").write("x")),
    ("read", lambda: open({str(secret)!r}).read()),
    ("scratch", lambda: open("inside.txt", "w").write("ok")),
]:
    try:
        act()
        print(what, "allowed")
    except OSError as exc:
        print(what, "refused", exc.strerror)
"""
    try:
        proc, _ = sandboxed_python(code, tmp_path, Limits(memory_mb=1024))
    finally:
        listener.close()
    outcome = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    print(outcome)
    assert outcome["scratch"] == "allowed"
    if "network" in features:
        assert outcome["connect"].startswith("refused") and listener.connections == 0
    if "filesystem" in features or "landlock" in features:
        assert outcome["write"].startswith("refused") and list(outside.iterdir()) == []
    if "landlock" in features:
        assert outcome["read"].startswith("refused") and CANARY_TEXT not in proc.stdout


def test_file_size_cpu_and_memory_limits(tmp_path):
    big = "import signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\ntry:\n    open('big', 'wb').write(b'x' * 3_000_000)\nexcept OSError as exc:\n    print(exc.strerror)\n"
    proc, _ = sandboxed_python(big, tmp_path, Limits(memory_mb=1024, file_mb=1))
    assert "File too large" in proc.stdout
    assert (tmp_path / "scratch" / "big").stat().st_size == 1024 * 1024
    spin, _ = sandboxed_python("while True:\n    pass\n", tmp_path, Limits(memory_mb=1024, cpu_seconds=1), timeout=30)
    assert spin.returncode == -signal.SIGXCPU
    hog = "try:\n    b = bytearray(3 * 1024 ** 3)\nexcept MemoryError:\n    print('MemoryError')\n"
    proc, _ = sandboxed_python(hog, tmp_path, Limits(memory_mb=1024))
    assert proc.stdout.strip() == "MemoryError"


# -- seig exec -------------------------------------------------------------------------------------


def seig_exec(*args: str) -> subprocess.CompletedProcess:
    seig = Path(sys.executable).with_name("seig")
    return subprocess.run([str(seig), "exec", *args], capture_output=True, text=True, timeout=300)


def test_seig_exec_renders_a_standalone_scene(tmp_path):
    from seig.tools.program import standalone

    script = tmp_path / "scene.py"
    script.write_text(standalone(RED_PLANE, width=96, height=64, samples=8, title="test"))
    done = seig_exec(str(script), "--out", str(tmp_path / "out"), "--resolution", "48", "--samples", "4")
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "out" / "render.png") as img:
        assert img.size == (48, 32) and np.asarray(img.convert("RGB"))[..., 0].mean() > 240
    assert (tmp_path / "out" / "scene.blend").stat().st_size > 0


@pytest.mark.parametrize(
    "program, code, message",
    [
        ("import os\nos.system('id')\n", 1, "import of 'os' is not allowed"),
        ("import bpy\nbpy.data.objects['missing']\n", 1, "KeyError"),
        (None, 2, "no such file"),
    ],
)
def test_seig_exec_fails_in_one_line(program, code, message, tmp_path):
    path = tmp_path / "prog.py"
    if program is not None:
        path.write_text(program)
    done = seig_exec(str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == code
    assert message in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1


def test_close_leaves_nothing_behind():
    ex = BlenderExecutor(timeout=30)
    assert ex.run(CUBE).ok
    pid, sandbox = ex.worker_pid, ex._sandbox
    ex.close()
    assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    assert sandbox.cgroup is None or not sandbox.cgroup.exists()
    assert not sandbox.scratch.exists()
