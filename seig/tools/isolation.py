"""The operating-system layer of the sandbox: what the worker process may touch at all.

The static policy and the worker's guarded namespace are Python-level checks in
the same interpreter as bpy; they stop honest mistakes and most tricks, but they
are not a security boundary by themselves. This module is: before the worker's
interpreter starts (in ``preexec``), the child gets its own session, hard
resource limits, a pids cgroup (fork bombs), a private network namespace (no
network) and a private mount namespace in which every filesystem is read-only
except the worker's scratch directory. Each feature is probed once per process,
so a machine that lacks one (no cgroup access, no user namespaces) still runs,
with ``Sandbox.features`` saying what was applied.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
# statvfs flags that a bind-remount must keep, or the kernel refuses it in a user namespace.
KEPT_MOUNT_FLAGS = 0x2 | 0x4 | 0x8 | 0x400 | 0x800 | 0x1000  # nosuid nodev noexec noatime nodiratime relatime
CGROUP_PIDS_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))
FEATURES = ("network", "filesystem", "pids_cgroup")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


@dataclass(frozen=True)
class Limits:
    """Hard per-worker limits. ``max_processes`` counts threads too (Cycles uses one per core)."""

    memory_mb: int = 6144
    cpu_seconds: int = 3600
    file_mb: int = 512
    max_processes: int = 256


def _mount_points() -> list[str]:
    """Every mount point of this process, read in the parent so the child only makes syscalls."""
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as info:
        for line in info:
            raw = line.split()[4]
            points.append(raw.encode().decode("unicode_escape"))
    return points


def _readonly_plan(writable: Path) -> list[tuple[bytes, int]]:
    plan = []
    for point in _mount_points():
        if Path(point) == writable:
            continue
        try:
            kept = os.statvfs(point).f_flag & KEPT_MOUNT_FLAGS
        except OSError:
            continue
        plan.append((point.encode(), MS_REMOUNT | MS_BIND | MS_RDONLY | kept))
    return plan


def _user_task_count() -> int:
    """Tasks (processes and threads) this user already has: what RLIMIT_NPROC counts."""
    uid, count = os.getuid(), 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                continue
    return count


def _pids_cgroup_root() -> Path | None:
    for root in CGROUP_PIDS_ROOTS:
        if (root / "cgroup.procs").exists() and os.access(root, os.W_OK):
            if root.name == "pids" or "pids" in (root / "cgroup.subtree_control").read_text(errors="ignore"):
                return root
    return None


class Sandbox:
    """The OS-level confinement of one worker process; ``preexec`` runs in the forked child."""

    def __init__(self, scratch: Path, limits: Limits, features: frozenset[str] | None = None) -> None:
        self.scratch = Path(scratch).resolve()
        self.limits = limits
        self.features = supported_features() if features is None else features
        self.cgroup: Path | None = None
        if "pids_cgroup" in self.features:
            self.cgroup = self._make_cgroup()
        self._nproc = 0 if os.getuid() == 0 else _user_task_count() + limits.max_processes
        self._remounts = _readonly_plan(self.scratch) if "filesystem" in self.features else []
        self._cgroup_procs = str(self.cgroup / "cgroup.procs").encode() if self.cgroup else None

    def _make_cgroup(self) -> Path | None:
        root = _pids_cgroup_root()
        if root is None:
            return None
        group = root / f"seig-{os.getpid()}-{self.scratch.name}"
        try:
            group.mkdir()
            (group / "pids.max").write_text(str(self.limits.max_processes))
        except OSError:
            return None
        return group

    def preexec(self) -> None:
        """In the child, before exec: session, cgroup, rlimits, then namespaces. Syscalls only."""
        os.setsid()
        if self._cgroup_procs:
            fd = os.open(self._cgroup_procs, os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
        mb = 1024 * 1024
        limits = [
            (resource.RLIMIT_AS, self.limits.memory_mb * mb),
            (resource.RLIMIT_CPU, self.limits.cpu_seconds),
            (resource.RLIMIT_FSIZE, self.limits.file_mb * mb),
            (resource.RLIMIT_CORE, 0),
        ]
        if self._nproc:
            limits.append((resource.RLIMIT_NPROC, self._nproc))
        for which, value in limits:
            resource.setrlimit(which, (value, value))
        flags = 0
        if "network" in self.features:
            flags |= CLONE_NEWNET
        if "filesystem" in self.features:
            flags |= CLONE_NEWNS
        if flags and os.getuid() != 0:
            flags |= CLONE_NEWUSER
        if flags and _libc.unshare(flags) != 0:
            raise OSError(ctypes.get_errno(), "unshare failed")
        if "filesystem" in self.features:
            self._make_filesystem_readonly()

    def _make_filesystem_readonly(self) -> None:
        if _libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            raise OSError(ctypes.get_errno(), "could not make mounts private")
        scratch = str(self.scratch).encode()
        if _libc.mount(scratch, scratch, None, MS_BIND | MS_REC, None) != 0:
            raise OSError(ctypes.get_errno(), "could not bind the scratch directory")
        for point, flags in self._remounts:
            _libc.mount(None, point, None, flags, None)  # a mount that refuses stays as it was

    def cleanup(self) -> None:
        """Kill anything left in the worker's cgroup (escaped children too) and remove the group."""
        if self.cgroup is None:
            return
        procs = self.cgroup / "cgroup.procs"
        for _ in range(50):
            try:
                pids = [int(p) for p in procs.read_text().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)
        try:
            self.cgroup.rmdir()
        except OSError:
            pass


def _probe(feature: str) -> bool:
    """Whether a child with this one feature starts: tried for real, because containers differ."""
    scratch = Path(os.environ.get("TMPDIR", "/tmp"))
    sandbox = Sandbox(scratch, Limits(memory_mb=1024, cpu_seconds=10, file_mb=1, max_processes=32), frozenset({feature}))
    try:
        subprocess.run(
            [sys.executable, "-S", "-c", "pass"],
            preexec_fn=sandbox.preexec,
            check=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return feature != "pids_cgroup" or sandbox.cgroup is not None
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        sandbox.cleanup()


@functools.cache
def supported_features() -> frozenset[str]:
    """The isolation features this machine grants this user, probed once per process."""
    if sys.platform != "linux":
        return frozenset()
    return frozenset(f for f in FEATURES if _probe(f))
