"""The Blender worker: a long-lived process that keeps bpy loaded and runs one job at a time.

It speaks JSON lines: one job per line on stdin, one result per line on the
protocol pipe (the original stdout; Blender's own chatter is sent to stderr).
It depends only on the standard library and bpy, so the same file also runs
inside a user's Blender binary: ``blender -b --factory-startup --python worker.py``.

The parent (``seig.tools.executor``) has already refused programs that fail the
static policy and has started this process inside ``seig.tools.isolation``'s
sandbox (limits, no network, read-only filesystem but for its scratch
directory, no secrets in its environment). What this file adds is the second
layer: a guarded namespace, an audit hook that refuses files, processes,
sockets and native code while a program runs, a check of the finished scene
for script machinery (drivers, text blocks, script and file nodes) and clamps
on what a scene may ask of the renderer.
"""

from __future__ import annotations

import builtins
import json
import os
import signal
import sys
import sysconfig
import time
import traceback

PROGRAM_FILENAME = "<scene program>"

# Keep in step with seig.tools.policy.ALLOWED_IMPORTS (a test checks they match).
ALLOWED_MODULES = frozenset(
    {
        "bpy",
        "bmesh",
        "mathutils",
        "math",
        "cmath",
        "random",
        "colorsys",
        "itertools",
        "functools",
        "collections",
        "statistics",
        "copy",
        "fractions",
        "decimal",
        "numbers",
        "operator",
        "re",
        "time",
    }
)
BLOCKED_BUILTINS = frozenset(
    {
        "open",
        "exec",
        "eval",
        "compile",
        "input",
        "breakpoint",
        "help",
        "exit",
        "quit",
        "globals",
        "locals",
        "vars",
        "license",
        "credits",
        "copyright",
        "memoryview",
    }
)
# Attribute names a program may not reach through getattr and friends, even spelled as a string.
BLOCKED_ATTRIBUTES = frozenset(
    {
        "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "f_globals", "f_locals",
        "f_builtins", "f_back", "f_code", "tb_frame", "tb_next", "mro", "filepath", "filepath_raw",
        "handlers", "driver_namespace", "texts", "libraries", "utils", "path", "msgbus", "preferences",
        "save", "save_render", "load", "as_module", "use_module", "driver_add", "drivers", "expression",
    }
)
# Audit events a running program has no business raising. Prefixes end with a dot.
DENIED_EVENTS = (
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
    "os.putenv", "os.unsetenv", "os.chdir", "os.chmod", "os.chown", "os.remove", "os.rename", "os.rmdir",
    "os.mkdir", "os.link", "os.symlink", "os.truncate", "os.utime", "os.setxattr", "os.removexattr",
    "subprocess.", "socket.", "ctypes.", "shutil.", "mmap.", "fcntl.", "resource.", "gc.", "pickle.",
    "urllib.", "http.", "ftplib.", "smtplib.", "webbrowser.", "sys._getframe", "sys._current_frames",
    "sys.settrace", "sys.setprofile", "sys.addaudithook", "sys.setrecursionlimit", "code.__new__",
    "object.__getattr__", "object.__setattr__", "object.__delattr__", "builtins.input", "cpython.",
)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Node types that run scripts or read and write files.
FORBIDDEN_NODE_PREFIXES = ("ShaderNodeScript", "CompositorNodeOutputFile", "GeometryNodeImport", "NodeGroupImport")

CURVE_RESOLUTIONS = ("resolution_u", "resolution_v", "render_resolution_u", "render_resolution_v", "bevel_resolution")

LIMITS = {
    "max_resolution": 2048,
    "max_samples": 1024,
    "max_subdivision_levels": 4,
    "max_array_count": 1000,
    "max_curve_resolution": 64,
    "max_bounces": 32,
    "max_objects": 2000,
    "max_vertices": 3_000_000,
    "max_particles": 100_000,
}


class SandboxViolation(PermissionError):
    """A running program tried something the sandbox refuses (a file, a process, a socket, ...)."""


class Guard:
    """An audit hook that is armed only while untrusted code runs; once added it cannot be removed."""

    def __init__(self) -> None:
        self.armed = False
        self.program_code = None
        self.driver_keys: set[str] = set()
        # Where the interpreter and bpy load from; not the whole sys.path (it may hold a project).
        roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.abspath(__file__))}
        roots.update(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib"))
        self.roots = tuple(sorted(os.path.realpath(r) + os.sep for r in roots))

    def install(self) -> None:
        sys.addaudithook(self.hook)

    def _inside_roots(self, path) -> bool:
        if isinstance(path, int):
            return False
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return (real + os.sep).startswith(self.roots)

    def hook(self, event: str, args: tuple) -> None:
        if not self.armed:
            return
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS
            )
            if writing or not self._inside_roots(path):
                raise SandboxViolation(f"the sandbox refused to open {path!r}")
        elif event in ("os.listdir", "os.scandir", "glob.glob"):
            if not self._inside_roots(args[0] if args and args[0] is not None else "."):
                raise SandboxViolation(f"the sandbox refused to list {args[0]!r}")
        elif event == "compile":
            filename = args[1] if len(args) > 1 else None
            if not (isinstance(filename, str) and self._inside_roots(filename)):
                raise SandboxViolation("the sandbox refused to compile code at run time")
        elif event == "exec":
            code = args[0] if args else None
            filename = getattr(code, "co_filename", "")
            if code is not self.program_code and not self._inside_roots(filename):
                raise SandboxViolation("the sandbox refused to run dynamically created code")
        elif event.startswith(DENIED_EVENTS):
            raise SandboxViolation(f"the sandbox refused '{event}'")


GUARD = Guard()


def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    """Import only modules a scene program has business with."""
    root = name.split(".")[0]
    if level != 0 or root not in ALLOWED_MODULES:
        raise ImportError(f"import of '{name}' is not allowed in a scene program")
    return builtins.__import__(name, globals, locals, fromlist, level)


def _checked_name(name) -> str:
    if not isinstance(name, str) or name.startswith("_") or name in BLOCKED_ATTRIBUTES:
        raise SandboxViolation(f"attribute {name!r} is not available to a scene program")
    return name


def safe_getattr(obj, name, *default):
    return getattr(obj, _checked_name(name), *default)


def safe_setattr(obj, name, value):
    setattr(obj, _checked_name(name), value)


def safe_delattr(obj, name):
    delattr(obj, _checked_name(name))


def safe_hasattr(obj, name):
    return hasattr(obj, _checked_name(name))


def program_namespace() -> dict:
    """Builtins without file, code and introspection escapes, and guarded attribute access."""
    safe = {k: getattr(builtins, k) for k in dir(builtins) if k not in BLOCKED_BUILTINS and not k.startswith("__")}
    safe.update(
        __import__=guarded_import,
        __build_class__=builtins.__build_class__,
        getattr=safe_getattr,
        setattr=safe_setattr,
        delattr=safe_delattr,
        hasattr=safe_hasattr,
        print=print,
    )
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


def purge_script_hooks(bpy) -> None:
    """Drop any handler, timer or driver function a program slipped in, before trusted code runs."""
    for name in dir(bpy.app.handlers):
        handlers = getattr(bpy.app.handlers, name)
        if isinstance(handlers, list):
            handlers.clear()
    for key in set(bpy.app.driver_namespace.keys()) - GUARD.driver_keys:
        del bpy.app.driver_namespace[key]


def _node_trees(bpy):
    for collection in (bpy.data.materials, bpy.data.worlds, bpy.data.lights, bpy.data.textures, bpy.data.scenes):
        for owner in collection:
            tree = getattr(owner, "node_tree", None) or getattr(owner, "compositing_node_group", None)
            if tree is not None:
                yield owner.name, tree
    for tree in bpy.data.node_groups:
        yield tree.name, tree


def scene_audit(bpy) -> list[str]:
    """Script machinery and file access the static policy should have refused; found after the fact."""
    problems = []
    if len(bpy.data.texts):
        problems.append("the scene contains text blocks")
    if len(bpy.data.libraries):
        problems.append("the scene links external .blend libraries")
    for image in bpy.data.images:
        if image.source in ("FILE", "SEQUENCE", "MOVIE") and image.filepath:
            problems.append(f"image '{image.name}' reads a file")
    for owner_name, tree in _node_trees(bpy):
        for node in tree.nodes:
            if node.bl_idname.startswith(FORBIDDEN_NODE_PREFIXES):
                problems.append(f"node '{node.name}' in '{owner_name}' ({node.bl_idname}) is not allowed")
    for ids in (bpy.data.objects, bpy.data.materials, bpy.data.worlds, bpy.data.scenes, bpy.data.meshes,
                bpy.data.lights, bpy.data.cameras, bpy.data.node_groups, bpy.data.shape_keys):
        for block in ids:
            animation = getattr(block, "animation_data", None)
            if animation is not None and len(animation.drivers):
                problems.append(f"'{block.name}' has drivers; drivers are not allowed")
    for scene in bpy.data.scenes:
        if scene.sequence_editor is not None and len(scene.sequence_editor.strips_all):
            problems.append("the scene uses the video sequencer")
        if scene.cycles.shading_system:
            problems.append("Open Shading Language is not allowed")
    return problems


def _clamp(obj, attr: str, limit: int, label: str, notes: list[str]) -> None:
    if hasattr(obj, attr) and getattr(obj, attr) > limit:
        setattr(obj, attr, limit)
        notes.append(f"{label}.{attr} clamped to {limit}")


def clamp_scene(bpy) -> list[str]:
    """Cap what a program may ask of the machine; return what was changed."""
    notes: list[str] = []
    scene = bpy.context.scene
    if len(bpy.data.objects) > LIMITS["max_objects"]:
        raise RuntimeError(f"scene has {len(bpy.data.objects)} objects; the limit is {LIMITS['max_objects']}")
    vertices = 0
    for obj in bpy.data.objects:
        copies, levels = 1, 0
        for mod in getattr(obj, "modifiers", []):
            label = f"{obj.name}.{mod.name}"
            for attr in ("levels", "render_levels", "sculpt_levels", "iterations", "render_iterations"):
                _clamp(mod, attr, LIMITS["max_subdivision_levels"], label, notes)
            if mod.type in ("SUBSURF", "MULTIRES"):
                levels += max(mod.levels, mod.render_levels)
            if mod.type == "ARRAY":
                copies *= max(1, mod.count)
            if mod.type == "SCREW":
                _clamp(mod, "steps", LIMITS["max_array_count"], label, notes)
                _clamp(mod, "render_steps", LIMITS["max_array_count"], label, notes)
        if copies > LIMITS["max_array_count"]:
            limit = LIMITS["max_array_count"]
            raise RuntimeError(f"array modifiers on '{obj.name}' would make {copies} copies; the limit is {limit}")
        for system in getattr(obj, "particle_systems", []):
            settings = system.settings
            _clamp(settings, "count", LIMITS["max_particles"], obj.name, notes)
            _clamp(settings, "rendered_child_count", 10, obj.name, notes)
        if obj.type in ("CURVE", "FONT", "SURFACE"):
            for attr in CURVE_RESOLUTIONS:
                _clamp(obj.data, attr, LIMITS["max_curve_resolution"], obj.name, notes)
        if obj.type == "MESH" and obj.data is not None:
            vertices += len(obj.data.vertices) * copies * 4**levels  # an estimate of the evaluated mesh
    if vertices > LIMITS["max_vertices"]:
        raise RuntimeError(f"scene has about {vertices} vertices; the limit is {LIMITS['max_vertices']}")
    for attr in ("max_bounces", "diffuse_bounces", "glossy_bounces", "transmission_bounces", "volume_bounces"):
        _clamp(scene.cycles, attr, LIMITS["max_bounces"], "cycles", notes)
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
    """Base colour, roughness and metallic of a material's Principled BSDF (the benchmark scores them)."""
    tree = getattr(material, "node_tree", None)
    bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None) if tree else None
    if bsdf is None:
        return {"base_color": _rounded(material.diffuse_color[:3])}
    return {
        "base_color": _rounded(bsdf.inputs["Base Color"].default_value[:3]),
        "roughness": round(float(bsdf.inputs["Roughness"].default_value), 3),
        "metallic": round(float(bsdf.inputs["Metallic"].default_value), 3),
    }


def scene_summary(bpy) -> dict:
    from mathutils import Vector

    objects, materials = [], {}
    for obj in bpy.context.scene.objects:
        item = {"name": obj.name, "type": obj.type, "location": _rounded(obj.location), "rotation": _rounded(obj.rotation_euler, 4)}
        if obj.parent is not None:
            item["parent"] = obj.parent.name
        if obj.type == "MESH":
            item["dimensions"] = _rounded(obj.dimensions)
            item["center"] = _rounded(sum((obj.matrix_world @ Vector(c) for c in obj.bound_box), Vector()) / 8.0)
            mats = [s.material for s in obj.material_slots if s.material]
            item["materials"] = [m.name for m in mats]
            materials.update((m.name, material_summary(m)) for m in mats)
        if obj.type == "LIGHT":
            item["light"] = obj.data.type
            item["energy"] = round(float(obj.data.energy), 3)
        if obj.type == "CAMERA":
            item["lens"] = round(float(obj.data.lens), 3)
        objects.append(item)
    camera = bpy.context.scene.camera.name if bpy.context.scene.camera else None
    return {"objects": objects, "camera": camera, "materials": materials}


def configure_render(bpy, spec: dict) -> None:
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.shading_system = False
    scene.cycles.samples = max(1, min(int(spec.get("samples", 16)), LIMITS["max_samples"]))
    scene.cycles.use_denoising = bool(spec.get("denoise", True))
    scene.cycles.denoising_prefilter = "FAST" if spec.get("quick_denoise") else "ACCURATE"
    scene.cycles.seed = int(spec.get("seed", 0))
    scene.cycles.use_adaptive_sampling = False
    scene.render.resolution_x = max(8, min(int(spec["width"]), LIMITS["max_resolution"]))
    scene.render.resolution_y = max(8, min(int(spec["height"]), LIMITS["max_resolution"]))
    scene.render.resolution_percentage = 100
    scene.render.use_border = False
    scene.render.film_transparent = False
    scene.render.use_persistent_data = False
    scene.render.use_sequencer = False
    scene.frame_set(int(spec.get("frame", scene.frame_current)))
    settings = scene.render.image_settings
    settings.file_format = "PNG"
    settings.color_mode = "RGB"
    settings.color_depth = "8"
    scene.render.filepath = spec["path"]


def _written(path: str, what: str) -> None:
    """Blender reports a failed write only on its console; check the file really is there."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise OSError(f"could not write the {what} (is the disk full or the file-size limit reached?)")


def render(bpy, spec: dict) -> dict:
    start = time.perf_counter()
    configure_render(bpy, spec)
    if os.path.exists(spec["path"]):
        os.remove(spec["path"])
    bpy.ops.render.render(write_still=True)
    _written(spec["path"], "render")
    return {"render_path": spec["path"], "render_seconds": time.perf_counter() - start}


def run_program(bpy, code: str) -> None:
    """Run untrusted code with the guarded namespace and the armed audit hook."""
    compiled = compile(code, PROGRAM_FILENAME, "exec")
    GUARD.program_code = compiled
    GUARD.armed = True
    try:
        exec(compiled, program_namespace())
    finally:
        GUARD.armed = False
        GUARD.program_code = None
        purge_script_hooks(bpy)


def run_job(bpy, job: dict) -> dict:
    """Run a program from an empty scene; optionally save the .blend and render it."""
    code = job["code"]
    result: dict = {"ok": True}
    start = time.perf_counter()
    reset_scene(bpy)
    if job.get("workdir"):
        os.chdir(job["workdir"])
    try:
        run_program(bpy, code)
        problems = scene_audit(bpy)
        if problems:
            return {"ok": False, "error": "Refused by the sandbox: " + "; ".join(problems), "refused": True}
        result["notes"] = clamp_scene(bpy)
    except BaseException as exc:  # the program's failure is data for the coder
        return {"ok": False, "error": program_error(exc, code), "run_seconds": time.perf_counter() - start}
    result["run_seconds"] = time.perf_counter() - start
    bpy.context.view_layer.update()  # dimensions and world matrices reflect the program's last changes
    result["scene"] = scene_summary(bpy)
    if job.get("render"):
        configure_render(bpy, job["render"])  # so the saved .blend opens with the settings it was rendered with
    if job.get("blend_out"):
        bpy.ops.wm.save_as_mainfile(filepath=job["blend_out"], copy=True, compress=True)
        _written(job["blend_out"], ".blend file")
        result["blend_path"] = job["blend_out"]
    if job.get("render"):
        GUARD.armed = True  # render-time callbacks are untrusted too
        try:
            result.update(render(bpy, job["render"]))
        finally:
            GUARD.armed = False
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
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write then fails with an error instead
    import bpy

    GUARD.install()
    GUARD.driver_keys = set(bpy.app.driver_namespace.keys())

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
