"""Turning what the new-run form holds into files and settings the engine accepts."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import seig
from seig.state.state import RunSettings
from seig.tools.images import BadImage

PROVIDERS = {
    "classical": "Offline (classical, no network)",
    "openai": "OpenAI",
    "google_genai": "Gemini",
    "compatible": "OpenAI-compatible server",
}
DEFAULT_MODEL_NAMES = {"openai": "gpt-4o", "google_genai": "gemini-2.5-flash", "compatible": ""}
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "google_genai": "GOOGLE_API_KEY"}
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def example_images() -> list[Path]:
    """Shipped example photos: the repository's ``examples/`` and the package's copy."""
    package = Path(seig.__file__).resolve().parent
    found: dict[str, Path] = {}
    for folder in (package.parent / "examples", package / "examples"):
        for path in sorted(folder.glob("*.png")) if folder.is_dir() else []:
            found.setdefault(path.name, path)
    return list(found.values())


def runs_root(db_path: Path) -> Path:
    """Uploads and run directories live next to the database, so one folder holds everything."""
    return db_path.resolve().parent


def save_upload(name: str, data: bytes, root: Path) -> Path:
    """Store an uploaded photo under a content-addressed name; the engine validates its pixels."""
    if not data:
        raise BadImage(f"{name}: the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadImage(f"{name}: {len(data) // (1024 * 1024)} MB is too large; the limit is 50 MB")
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name).strip("._") or "photo"
    digest = hashlib.sha256(data).hexdigest()[:10]
    dest = root / "uploads" / f"{digest}_{stem}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return dest


def new_run_dir(root: Path, image: Path) -> Path:
    """A fresh, readable, unique directory name for a run's outputs."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", image.stem)[:40] or "run"
    base = root / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def model_spec(provider: str, name: str) -> tuple[str, str | None]:
    """(settings.model, needs-this-key-variable or None) for a provider choice and model name."""
    name = name.strip()
    if provider == "classical":
        return "classical", None
    if not name:
        raise ValueError(f"type the model name for {PROVIDERS[provider]}")
    if provider == "compatible":
        return name, None
    return f"{provider}:{name}", KEY_VARIABLES[provider]


def build_settings(
    *,
    model: str,
    base_url: str | None,
    mode: str,
    budgets: dict[str, int],
    approve: str,
    loop_resolution: int,
    loop_samples: int,
    final_resolution: int,
    final_samples: int,
) -> RunSettings:
    """The RunSettings for the form's values; pydantic rejects anything out of range."""
    if mode == "staged" and not any(b > 0 for b in budgets.values()):
        raise ValueError("give at least one stage a budget of one round or more")
    if mode == "monolithic" and sum(budgets.values()) < 1:
        raise ValueError("a monolithic run needs a total budget of at least one round")
    return RunSettings(
        model=model,
        base_url=(base_url or "").strip() or None,
        mode=mode,
        budgets=dict(budgets),
        approve=approve,
        loop_resolution=loop_resolution,
        loop_samples=loop_samples,
        final_resolution=final_resolution,
        final_samples=final_samples,
    )
