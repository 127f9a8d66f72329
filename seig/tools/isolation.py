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
import sysconfig
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
FEATURES = ("network", "filesystem", "landlock", "pids_cgroup")

# Landlock (Linux >= 5.13): an unprivileged process can give up filesystem and network access for good.
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
PR_SET_NO_NEW_PRIVS = 38
LANDLOCK_RULE_PATH_BENEATH = 1
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_TRUNCATE, FS_IOCTL_DEV = 1 << 14, 1 << 15
FS_READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
FILE_ONLY_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
# Everything the worker needs to read: the interpreter, bpy, system libraries, a few /proc and /sys files.
SYSTEM_READ_PATHS = (
    "/usr", "/lib", "/lib32", "/lib64", "/bin", "/etc/ld.so.cache", "/etc/localtime",
    "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/sys/devices/system/cpu", "/sys/fs/cgroup",
    "/dev/urandom", "/dev/random",
)

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


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_cgroups(root: Path) -> None:
    """Empty groups left by a seig process that was killed before it could clean up."""
    for group in root.glob("seig-*-*"):
        owner = group.name.split("-")[1]
        if owner.isdigit() and not process_alive(int(owner)):
            try:
                group.rmdir()  # fails, harmlessly, if anything still runs in it
            except OSError:
                pass


def _lower_limit(which: int, soft: int, hard: int) -> None:
    """Set a limit, never above the hard limit the user already has (raising it would fail)."""
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(which, (soft, hard))


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable."""
    version = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(0, version)


def _handled_fs(abi: int) -> int:
    handled = (1 << 13) - 1  # ABI 1: execute .. make_sym
    if abi >= 2:
        handled |= 1 << 13  # refer
    if abi >= 3:
        handled |= FS_TRUNCATE
    if abi >= 5:
        handled |= FS_IOCTL_DEV
    return handled


def read_roots(extra: tuple[str, ...] = ()) -> list[str]:
    """Directories the worker's interpreter and bpy are loaded from (not the caller's sys.path)."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    roots.update(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib"))
    roots.update(extra)
    return sorted({os.path.realpath(r) for r in roots if os.path.exists(r)})


class Sandbox:
    """The OS-level confinement of one worker process; ``preexec`` runs in the forked child."""

    def __init__(
        self,
        scratch: Path,
        limits: Limits,
        features: frozenset[str] | None = None,
        read_paths: tuple[str, ...] = (),
    ) -> None:
        self.scratch = Path(scratch).resolve()
        self.limits = limits
        self.features = supported_features() if features is None else features
        self._abi = landlock_abi() if "landlock" in self.features else 0
        self._read_paths = [p.encode() for p in (*SYSTEM_READ_PATHS, *read_roots(read_paths)) if os.path.exists(p)]
        self.cgroup: Path | None = None
        limited = limits.max_processes > 0  # 0: no process limit
        if limited and "pids_cgroup" in self.features:
            self.cgroup = self._make_cgroup()
        self._nproc = _user_task_count() + limits.max_processes if limited and os.getuid() != 0 else 0
        self._remounts = _readonly_plan(self.scratch) if "filesystem" in self.features else []
        self._cgroup_procs = str(self.cgroup / "cgroup.procs").encode() if self.cgroup else None

    def _make_cgroup(self) -> Path | None:
        root = _pids_cgroup_root()
        if root is None:
            return None
        _remove_stale_cgroups(root)
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
        limits: list[tuple[int, ...]] = [
            (resource.RLIMIT_AS, self.limits.memory_mb * mb),
            (resource.RLIMIT_FSIZE, self.limits.file_mb * mb),
            (resource.RLIMIT_CORE, 0),
        ]
        if self._nproc:
            limits.append((resource.RLIMIT_NPROC, self._nproc))
        # SIGXCPU at the soft limit says why; SIGKILL at the hard limit if it is ignored.
        limits.append((resource.RLIMIT_CPU, self.limits.cpu_seconds, self.limits.cpu_seconds + 2))
        for which, soft, *hard in limits:
            _lower_limit(which, soft, hard[0] if hard else soft)
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
        if self._abi:
            self._landlock()

    def _make_filesystem_readonly(self) -> None:
        if _libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            raise OSError(ctypes.get_errno(), "could not make mounts private")
        scratch = str(self.scratch).encode()
        if _libc.mount(scratch, scratch, None, MS_BIND | MS_REC, None) != 0:
            raise OSError(ctypes.get_errno(), "could not bind the scratch directory")
        for point, flags in self._remounts:
            _libc.mount(None, point, None, flags, None)  # a mount that refuses stays as it was
        os.chdir(os.getcwd())  # re-enter the working directory through the new, writable mount

    def _landlock(self) -> None:
        """Read only the interpreter and system files, write only the scratch directory, no TCP."""
        attr = _RulesetAttr(handled_access_fs=_handled_fs(self._abi))
        size = 8
        if self._abi >= 4:
            attr.handled_access_net, size = 0b11, 16  # bind and connect TCP: no rule grants either
        if self._abi >= 6:
            attr.scoped, size = 0b11, 24  # abstract unix sockets and signals stay inside the sandbox
        ruleset = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
        if ruleset < 0:
            raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
        everything = attr.handled_access_fs
        rules = [(p, FS_READ) for p in self._read_paths]
        rules += [(f"/proc/{os.getpid()}".encode(), FS_READ), (b"/dev/null", FS_READ_FILE | FS_WRITE_FILE)]
        rules.append((str(self.scratch).encode(), everything))
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            if not os.path.isdir(path):
                access &= FILE_ONLY_RIGHTS
            rule = _PathBeneath(allowed_access=access & everything, parent_fd=fd)
            added = _libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0)
            os.close(fd)
            if added != 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path!r}")
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if _libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
        os.close(ruleset)

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
    limits = Limits(memory_mb=1024, cpu_seconds=10, file_mb=1, max_processes=32)
    sandbox = Sandbox(scratch, limits, frozenset({feature}))
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
    return frozenset(f for f in FEATURES if (f != "landlock" or landlock_abi()) and _probe(f))
