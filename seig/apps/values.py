"""Parsing what users type on the command line: colours, number lists, Python literals."""

from __future__ import annotations

import ast
import re

from seig.apps.run import AppError
from seig.tools.images import to_linear

HEX_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})$")


def hex_color(text: str) -> tuple[float, float, float]:
    """'#ff8800' (or 'ff8800') as a linear RGB triple: people type colours in sRGB, Blender stores them linear."""
    match = HEX_COLOR.match(text.strip())
    if not match:
        raise AppError(f"'{text}' is not a colour; use hex like #ff8800")
    digits = match.group(1)
    return tuple(round(float(to_linear(int(digits[i : i + 2], 16) / 255.0)), 4) for i in (0, 2, 4))  # type: ignore[return-value]


def numbers(text: str, count: tuple[int, ...], what: str) -> list[float]:
    """Comma-separated numbers, e.g. '45,30', with one of the allowed counts."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in count:
        wanted = " or ".join(str(c) for c in count)
        raise AppError(f"{what} '{text}' must be {wanted} comma-separated numbers")
    return values


def literal_value(text: str) -> float | bool | tuple:
    """A value after '=': a number, a boolean, a tuple of numbers, or a hex colour (as linear RGBA)."""
    text = text.strip()
    if HEX_COLOR.match(text) and text.startswith("#"):
        return (*hex_color(text), 1.0)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise AppError(f"'{text}' is not a value; use a number, True/False, a tuple like (1, 0, 0) or #rrggbb") from None
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return float(value) if not isinstance(value, bool) else value
    if isinstance(value, tuple) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return tuple(float(v) for v in value)
    raise AppError(f"'{text}' is not a value; use a number, True/False, a tuple like (1, 0, 0) or #rrggbb")


def format_value(value) -> str:
    """Python source for a value, short and readable."""
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, float):
        return repr(round(value, 6))
    return "(" + ", ".join(format_value(v) for v in value) + ("," if len(value) == 1 else "") + ")"
