"""Prompt texts live as Markdown files next to this module, apart from the code that sends them.

Placeholders use ``$name`` (``string.Template``) so that Python code and JSON
braces inside a prompt need no escaping.
"""

from __future__ import annotations

import functools
from pathlib import Path
from string import Template

PROMPTS_DIR = Path(__file__).parent


@functools.lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    """The text of ``<name>.md``; raises KeyError naming the prompts that exist."""
    path = PROMPTS_DIR / f"{name}.md"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROMPTS_DIR.glob("*.md")))
        raise KeyError(f"no prompt named {name!r}; known prompts: {known}")
    return path.read_text(encoding="utf-8").strip()


def render_prompt(name: str, **values: object) -> str:
    """The prompt with its ``$placeholders`` filled; a missing value is a KeyError, never a silent gap."""
    return Template(load_prompt(name)).substitute({key: str(value) for key, value in values.items()})
