"""Turning a stage program into the standalone ``scene.py`` a user can run and edit.

A *program* is plain Blender Python that builds the whole scene from an empty
scene: objects, materials, lights, world and camera (``scene.camera``). It does
not render or save; the executor does that. ``standalone`` wraps it so that
``blender -b --python scene.py`` or ``python scene.py`` rebuilds and renders it.
"""

from __future__ import annotations

HEADER = '''"""Reconstructed by seig{title}.

Run with `blender -b --python scene.py` or `python scene.py` (with bpy installed):
it rebuilds the scene from scratch and renders final.png next to this file.
Everything below the header is ordinary Blender Python: edit it freely.
"""
import bpy

bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.context.scene.view_settings.view_transform = "Standard"
bpy.context.scene.render.engine = "CYCLES"
if bpy.context.scene.world is None:
    bpy.context.scene.world = bpy.data.worlds.new("World")

# ---- scene program ----
'''

FOOTER = '''
# ---- render ----
if __name__ == "__main__":
    import os

    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = {samples}
    scene.cycles.use_denoising = True
    scene.cycles.seed = 0
    scene.render.resolution_x = {width}
    scene.render.resolution_y = {height}
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = os.path.join(os.path.dirname(os.path.abspath(__file__)), "final.png")
    bpy.ops.render.render(write_still=True)
'''

PROGRAM_MARK = "# ---- scene program ----\n"
RENDER_MARK = "\n# ---- render ----\n"


def standalone(program: str, *, width: int, height: int, samples: int, title: str = "") -> str:
    """The program wrapped with a scene reset before it and a render after it."""
    header = HEADER.format(title=f" from {title}" if title else "")
    return header + program.strip() + "\n" + FOOTER.format(width=width, height=height, samples=samples)


def extract_program(script: str) -> str:
    """The scene program inside a ``scene.py`` written by ``standalone`` (or the whole text)."""
    body = script.split(PROGRAM_MARK, 1)[1] if PROGRAM_MARK in script else script
    return body.split(RENDER_MARK, 1)[0].strip() + "\n"
