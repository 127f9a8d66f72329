"""Turning pictures into message content and model answers back into code or JSON.

Images are downscaled before encoding: a VLM sees a few hundred pixels anyway,
and every extra pixel costs tokens and latency on each round.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

from PIL import Image

from seig.tools.images import load_photo

IMAGE_MAX_SIDE = 512

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


def image_block(path: Path | str, max_side: int = IMAGE_MAX_SIDE) -> dict:
    """An OpenAI-style image content block holding the picture as a base64 PNG data URL."""
    picture = load_photo(path)
    if max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}


def text_block(text: str) -> dict:
    return {"type": "text", "text": text}


def extract_code(answer: str) -> str:
    """The first ```python block (else the first fenced block, else the whole answer), stripped."""
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(answer)]
    for lang, body in blocks:
        if lang in ("python", "py", "python3"):
            return body.strip()
    if blocks:
        return blocks[0][1].strip()
    return answer.strip()


def extract_json_object(answer: str) -> dict:
    """The first JSON object in an answer, fenced or not; raises ValueError when there is none."""
    decoder = json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"\{", answer)):
        try:
            value, _ = decoder.raw_decode(answer, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the answer holds no JSON object")
