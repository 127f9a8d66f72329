"""The Blender worker: a long-lived process that keeps bpy loaded and runs one job at a time.

It speaks JSON lines: one job per line on stdin, one result per line on the
protocol pipe (the original stdout; Blender's own chatter is sent to stderr).
It depends only on the standard library and bpy, so the same file also runs
inside a user's Blender binary: ``blender -b --factory-startup --python worker.py``.

The parent (``seig.tools.executor``) has already refused programs that fail the
static policy and has started this process with resource limits, in its own
process group, in a scratch directory, with an environment stripped of secrets.
What this file adds is a guarded namespace for the program and clamps on what a
scene may ask of the renderer.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import time
import traceback

PROGRAM_FILENAME = "<scene program>"

ALLOWED_MODULES = frozenset(
    {
        "bpy",
        "bmesh",
        "mathutils",
        "math",
        "random",
        "colorsys",
        "itertools",
        "functools",
        "collections",
        "statistics",
        "typing",
        "enum",
        "dataclasses",
        "string",
        "re",
        "copy",
        "fractions",
        "decimal",
        "numbers",
        "operator",
        "time",
    }
)
BLOCKED_BUILTINS = ("open", "exec", "eval", "compile", "input", "breakpoint", "help", "exit", "quit", "globals", "vars")

LIMITS = {
    "max_resolution": 2048,
    "max_samples": 1024,
    "max_subdivision_levels": 4,
    "max_objects": 2000,
    "max_vertices": 3_000_000,
    "max_particles": 100_000,
}


def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    """Import only modules a scene program has business with."""
    root = name.split(".")[0]
    if level != 0 or root not in ALLOWED_MODULES:
        raise ImportError(f"import of '{name}' is not allowed in a scene program")
    return builtins.__import__(name, globals, locals, fromlist, level)


def program_namespace() -> dict:
    safe = {k: getattr(builtins, k) for k in dir(builtins) if k not in BLOCKED_BUILTINS and not k.startswith("__")}
    safe["__import__"] = guarded_import
    safe["__build_class__"] = builtins.__build_class__
    safe["print"] = print
    return {"__builtins__": safe, "__name__": "__seig_program__"}


def program_error(exc: BaseException, code: str) -> str:
    """A short error for the coder: the exception and the program line it came from."""
    if isinstance(exc, SyntaxError):
        line = (exc.text or "").rstrip()
        return f"SyntaxError: {exc.msg} at line {exc.lineno}: {line}"
    lines = code.splitlines()
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == PROGRAM_FILENAME and frame.lineno and 0 < frame.lineno <= len(lines):
            where = f" at line {frame.lineno}: {lines[frame.lineno - 1].strip()}"
            break
    return f"{type(exc).__name__}: {exc}{where}"


def reset_scene(bpy) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.view_settings.view_transform = "Standard"
    scene.render.engine = "CYCLES"
    if scene.world is None:
        scene.world = bpy.data.worlds.new("World")


def clamp_scene(bpy) -> list[str]:
    """Cap what a program may ask of the machine; return what was changed."""
    notes = []
    scene = bpy.context.scene
    if len(bpy.data.objects) > LIMITS["max_objects"]:
        raise RuntimeError(f"scene has {len(bpy.data.objects)} objects; the limit is {LIMITS['max_objects']}")
    vertices = 0
    for obj in bpy.data.objects:
        for mod in getattr(obj, "modifiers", []):
            for attr in ("levels", "render_levels"):
                if hasattr(mod, attr) and getattr(mod, attr) > LIMITS["max_subdivision_levels"]:
                    setattr(mod, attr, LIMITS["max_subdivision_levels"])
                    notes.append(f"{obj.name}.{mod.name}.{attr} clamped to {LIMITS['max_subdivision_levels']}")
        for system in getattr(obj, "particle_systems", []):
            settings = system.settings
            if settings.count > LIMITS["max_particles"]:
                settings.count = LIMITS["max_particles"]
                notes.append(f"{obj.name} particles clamped to {LIMITS['max_particles']}")
        if obj.type == "MESH" and obj.data is not None:
            vertices += len(obj.data.vertices)
    if vertices > LIMITS["max_vertices"]:
        raise RuntimeError(f"scene has {vertices} vertices; the limit is {LIMITS['max_vertices']}")
    if scene.camera is None:
        cams = [o for o in scene.objects if o.type == "CAMERA"]
        if cams:
            scene.camera = cams[0]
        else:
            cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
            scene.collection.objects.link(cam)
            cam.location = (7.0, -7.0, 5.0)
            cam.rotation_euler = (1.1, 0.0, 0.785)
            scene.camera = cam
            notes.append("the program made no camera; a default camera was added")
    return notes


def _rounded(values, digits: int = 3) -> list[float]:
    return [round(float(v), digits) for v in values]


def material_summary(material) -> dict:
    """Base colour, roughness and metallic of a material's Principled BSDF, so a benchmark can score materials."""
    item: dict = {}
    tree = getattr(material, "node_tree", None)
    bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None) if tree else None
    if bsdf is not None:
        item["base_color"] = _rounded(bsdf.inputs["Base Color"].default_value[:3])
        item["roughness"] = round(float(bsdf.inputs["Roughness"].default_value), 3)
        item["metallic"] = round(float(bsdf.inputs["Metallic"].default_value), 3)
    else:
        item["base_color"] = _rounded(material.diffuse_color[:3])
    return item


def world_color(world) -> list[float] | None:
    tree = getattr(world, "node_tree", None) if world else None
    background = next((n for n in tree.nodes if n.type == "BACKGROUND"), None) if tree else None
    return _rounded(background.inputs["Color"].default_value[:3]) if background else None


def scene_summary(bpy) -> dict:
    from mathutils import Vector

    objects = []
    materials = {}
    for obj in bpy.context.scene.objects:
        item = {
            "name": obj.name,
            "type": obj.type,
            "location": _rounded(obj.location),
            "rotation": _rounded(obj.rotation_euler, 4),
        }
        if obj.type == "MESH":
            item["dimensions"] = _rounded(obj.dimensions)
            corners = [obj.matrix_world @ Vector(c) for c in obj.bound_box]
            item["center"] = _rounded(sum(corners, Vector()) / 8.0)
            mats = [s.material for s in obj.material_slots if s.material]
            item["materials"] = [m.name for m in mats]
            materials.update({m.name: material_summary(m) for m in mats})
        if obj.type == "LIGHT":
            item["light"] = obj.data.type
            item["energy"] = round(float(obj.data.energy), 3)
        if obj.type == "CAMERA":
            item["lens"] = round(float(obj.data.lens), 3)
        objects.append(item)
    return {
        "objects": objects,
        "camera": bpy.context.scene.camera.name if bpy.context.scene.camera else None,
        "materials": materials,
        "world_color": world_color(bpy.context.scene.world),
    }


def configure_render(bpy, spec: dict) -> None:
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = max(1, min(int(spec.get("samples", 16)), LIMITS["max_samples"]))
    scene.cycles.use_denoising = bool(spec.get("denoise", True))
    scene.cycles.seed = int(spec.get("seed", 0))
    scene.cycles.use_adaptive_sampling = False
    scene.render.resolution_x = max(8, min(int(spec["width"]), LIMITS["max_resolution"]))
    scene.render.resolution_y = max(8, min(int(spec["height"]), LIMITS["max_resolution"]))
    scene.render.resolution_percentage = 100
    scene.render.use_border = False
    scene.render.film_transparent = False
    scene.render.use_persistent_data = False
    scene.frame_set(int(spec.get("frame", scene.frame_current)))
    settings = scene.render.image_settings
    settings.file_format = "PNG"
    settings.color_mode = "RGB"
    settings.color_depth = "8"
    scene.render.filepath = spec["path"]


def render(bpy, spec: dict) -> dict:
    start = time.perf_counter()
    configure_render(bpy, spec)
    bpy.ops.render.render(write_still=True)
    return {"render_path": spec["path"], "render_seconds": time.perf_counter() - start}


def run_job(bpy, job: dict) -> dict:
    """Run a program from an empty scene; optionally save the .blend and render it."""
    code = job["code"]
    result: dict = {"ok": True}
    start = time.perf_counter()
    reset_scene(bpy)
    if job.get("workdir"):
        os.chdir(job["workdir"])
    try:
        compiled = compile(code, PROGRAM_FILENAME, "exec")
        exec(compiled, program_namespace())
        result["notes"] = clamp_scene(bpy)
    except BaseException as exc:  # the program's failure is data for the coder
        return {"ok": False, "error": program_error(exc, code), "run_seconds": time.perf_counter() - start}
    result["run_seconds"] = time.perf_counter() - start
    result["scene"] = scene_summary(bpy)
    if job.get("blend_out"):
        bpy.ops.wm.save_as_mainfile(filepath=job["blend_out"], copy=True, compress=True)
        result["blend_path"] = job["blend_out"]
    if job.get("render"):
        result.update(render(bpy, job["render"]))
    return result


def render_job(bpy, job: dict) -> dict:
    """Render a saved .blend (written by a run job) without running any Python in it."""
    start = time.perf_counter()
    bpy.ops.wm.open_mainfile(filepath=job["blend"], load_ui=False, use_scripts=False)
    result = {"ok": True, "load_seconds": time.perf_counter() - start}
    result.update(render(bpy, job["render"]))
    return result


def main() -> None:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import bpy

    def send(message: dict) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    send({"ready": True, "blender": bpy.app.version_string, "pid": os.getpid()})
    handlers = {"run": run_job, "render": render_job}
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        kind = job.get("kind")
        if kind == "ping":
            send({"ok": True, "pong": True})
            continue
        try:
            send(handlers[kind](bpy, job))
        except BaseException as exc:
            send({"ok": False, "error": f"worker failed: {type(exc).__name__}: {exc}", "internal": True})


if __name__ == "__main__":
    main()
