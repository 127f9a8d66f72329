"""Turning what the forms hold into files and settings the engine accepts."""

from __future__ import annotations

import hashlib
import os
import re
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
DEFAULT_MODEL_NAMES = {"classical": "", "openai": "gpt-4o", "google_genai": "gemini-2.5-flash", "compatible": ""}
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "google_genai": "GOOGLE_API_KEY"}
PHOTO_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"]
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
    return Path(db_path).expanduser().resolve().parent


def save_upload(name: str, data: bytes, root: Path) -> Path:
    """Store an uploaded photo under its content hash, keeping its name; the engine validates the pixels."""
    if not data:
        raise BadImage(f"{name}: the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadImage(f"{name}: {len(data) // (1024 * 1024)} MB is too large; the limit is 50 MB")
    filename = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name).strip("._") or "photo"
    dest = root / "uploads" / hashlib.sha256(data).hexdigest()[:12] / filename
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return dest


def model_spec(provider: str, name: str) -> str:
    """The ``settings.model`` string for a provider choice and a model name."""
    name = name.strip()
    if provider == "classical":
        return "classical"
    if not name:
        raise ValueError(f"type the model name for {PROVIDERS[provider]}")
    return name if provider == "compatible" else f"{provider}:{name}"


def missing_key(model: str, base_url: str | None, typed_key: str | None) -> str | None:
    """A one-line complaint when a hosted model has no key typed and none in the environment."""
    provider = model.partition(":")[0]
    if base_url or provider not in KEY_VARIABLES or (typed_key or "").strip():
        return None
    variable = KEY_VARIABLES[provider]
    if os.environ.get(variable) or (provider == "google_genai" and os.environ.get("GEMINI_API_KEY")):
        return None
    return f"{PROVIDERS[provider]} needs an API key: type it in the key field (kept in memory only) or set {variable}."


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
    """The RunSettings for the form's values; refuses a run with nothing to do."""
    if sum(budgets.values()) < 1:
        raise ValueError("give at least one stage a budget of one round or more")
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
