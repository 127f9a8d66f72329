"""Run-time configuration carried by LangGraph's context object.

What a run *chose* (model, mode, budgets, approval) lives in state as
``RunSettings`` so resume and fork replay it; this context holds what belongs
to the machine: where the database is, how to reach Blender, limits, weights.
Every field has a default and an environment variable, so a resumed run in a
new process gets the same context without the user repeating themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


@dataclass(kw_only=True)
class Context:
    db_path: Path = field(default_factory=lambda: Path(_env("SEIG_DB", "runs/seig.sqlite")))
    blender_binary: str | None = field(default_factory=lambda: _env("SEIG_BLENDER"))
    job_timeout: float = field(default_factory=lambda: float(_env("SEIG_JOB_TIMEOUT", "180")))
    memory_mb: int = field(default_factory=lambda: int(_env("SEIG_WORKER_MEMORY_MB", "6144")))
    lpips_weights: str | None = field(default_factory=lambda: _env("SEIG_LPIPS_WEIGHTS"))
    # OS isolation of the worker (namespaces, Landlock, cgroup); SEIG_ISOLATE=0 turns it off where unsupported.
    isolate: bool = field(default_factory=lambda: _env("SEIG_ISOLATE", "1") != "0")
    model_retries: int = 2
    api_key: str | None = None
    # A chat model object to use instead of building one from settings.model (tests inject fakes).
    chat_model: Any = None

    def executor_options(self) -> dict:
        return {
            "blender_binary": self.blender_binary,
            "timeout": self.job_timeout,
            "memory_mb": self.memory_mb,
            "isolate": self.isolate,
        }
