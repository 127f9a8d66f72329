"""Per-object masks from an ID render: every object a flat, unique emission colour.

The ID pass is the scene program itself with a short trusted footer appended,
so it runs through the sandboxed executor like any other program and works the
same for a ground truth and for a model's reconstruction. One sample, no
denoising, no dithering and a near-zero pixel filter make every pixel exactly
one object's colour, which decodes back to an integer id.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from seig.tools.executor import BlenderExecutor, RenderSpec
from seig.tools.images import to_srgb

ID_FOOTER = '''

# ---- seig bench: object-ID pass ----
import bpy

id_scene = bpy.context.scene
id_colors = {colors!r}
for id_obj in list(id_scene.objects):
    if id_obj.type == "LIGHT":
        bpy.data.objects.remove(id_obj)
    elif id_obj.type in ("MESH", "CURVE", "SURFACE", "META", "FONT"):
        id_mat = bpy.data.materials.new("seig_id")
        id_nodes = id_mat.node_tree.nodes
        id_nodes.clear()
        id_emit = id_nodes.new("ShaderNodeEmission")
        id_emit.inputs["Color"].default_value = (*id_colors.get(id_obj.name, (0.0, 0.0, 0.0)), 1.0)
        id_emit.inputs["Strength"].default_value = 1.0
        id_out = id_nodes.new("ShaderNodeOutputMaterial")
        id_mat.node_tree.links.new(id_emit.outputs["Emission"], id_out.inputs["Surface"])
        if len(id_obj.material_slots) == 0:
            id_obj.data.materials.append(None)
        for id_slot in id_obj.material_slots:
            id_slot.link = "OBJECT"
            id_slot.material = id_mat
id_world = bpy.data.worlds.new("seig_id_world")
id_world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
id_world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.0
id_scene.world = id_world
id_scene.view_settings.view_transform = "Standard"
id_scene.view_settings.look = "None"
id_scene.view_settings.exposure = 0.0
id_scene.view_settings.gamma = 1.0
id_scene.render.dither_intensity = 0.0
id_scene.cycles.filter_width = 0.01
id_scene.cycles.max_bounces = 0
'''


class MaskError(RuntimeError):
    """The ID pass of a program could not be rendered."""


def _levels(count: int) -> int:
    """Linear levels per channel so that every id in 1..count has its own colour."""
    levels = 2
    while levels**3 - 1 < count:
        levels += 1
    return levels


def id_colors(names: list[str]) -> dict[str, tuple[float, float, float]]:
    """Linear emission colour for each name: object i (1-based) gets the base-L digits of i."""
    levels = _levels(len(names))
    colors = {}
    for i, name in enumerate(names, start=1):
        digits = (i // levels**2, (i // levels) % levels, i % levels)
        colors[name] = tuple(round(d / (levels - 1), 6) for d in digits)
    return colors


def id_program(program: str, names: list[str], members: dict[str, str] | None = None) -> str:
    """The program followed by the ID-pass footer; objects not in ``names`` render black (background).

    ``members`` maps a part's name to the name of the object it belongs to, which it takes the colour of.
    """
    colors = id_colors(names)
    colors.update({part: colors[owner] for part, owner in (members or {}).items() if owner in colors})
    return program.rstrip() + "\n" + ID_FOOTER.format(colors=colors)


def decode_ids(rgb: np.ndarray, count: int) -> np.ndarray:
    """An 8-bit ID render back to an integer mask: 0 background, i for the i-th name."""
    levels = _levels(count)
    encoded = to_srgb(np.arange(levels) / (levels - 1)) * 255.0
    digits = np.abs(rgb.astype(np.float64)[..., None] - encoded).argmin(axis=-1)
    ids = digits[..., 0] * levels**2 + digits[..., 1] * levels + digits[..., 2]
    ids[ids > count] = 0
    return ids.astype(np.uint8 if count < 256 else np.uint16)


def render_mask(
    executor: BlenderExecutor,
    program: str,
    names: list[str],
    size: tuple[int, int],
    out: Path,
    members: dict[str, str] | None = None,
) -> np.ndarray:
    """Render the ID pass of ``program`` and save the integer mask as a PNG at ``out``."""
    raw = out.with_name(out.stem + "_ids.png")
    spec = RenderSpec(width=size[0], height=size[1], samples=1, seed=0, denoise=False)
    result = executor.run(id_program(program, names, members), render=spec, render_out=raw)
    if not result.ok:
        raise MaskError(f"the ID pass failed: {result.error}")
    with Image.open(raw) as img:
        mask = decode_ids(np.asarray(img.convert("RGB")), len(names))
    raw.unlink(missing_ok=True)
    Image.fromarray(mask).save(out)
    return mask


def read_mask(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img)
