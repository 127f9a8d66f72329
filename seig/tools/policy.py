"""Static policy for model-written Blender programs, checked before anything runs.

A scene program builds geometry, materials, lights and a camera. It has no
business with files, processes, the network, or Blender's script machinery, so
those are refused here with a reason the coder can act on. This is the first
layer; the worker's guarded namespace and the process limits are the others.
"""

from __future__ import annotations

import ast

ALLOWED_IMPORTS = frozenset(
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
FORBIDDEN_CALLS = frozenset(
    {"open", "exec", "eval", "compile", "__import__", "globals", "vars", "breakpoint", "input", "help", "exit", "quit"}
)
FORBIDDEN_NAMES = frozenset({"__builtins__", "__loader__", "__spec__"})
# Dotted prefixes of Blender APIs that read or write files, run scripts or install code.
FORBIDDEN_BPY = (
    "bpy.ops.wm",
    "bpy.ops.script",
    "bpy.ops.text",
    "bpy.ops.file",
    "bpy.ops.import_",
    "bpy.ops.export_",
    "bpy.ops.preferences",
    "bpy.ops.extensions",
    "bpy.ops.image.save",
    "bpy.ops.image.open",
    "bpy.ops.render.render",
    "bpy.ops.render.opengl",
    "bpy.ops.sound",
    "bpy.ops.ptcache",
    "bpy.ops.fluid",
    "bpy.ops.cloth",
    "bpy.app.handlers",
    "bpy.app.driver_namespace",
    "bpy.app.timers",
    "bpy.app.translations",
    "bpy.utils",
    "bpy.data.texts",
    "bpy.data.libraries",
    "bpy.data.images.load",
    "bpy.data.sounds",
    "bpy.data.movieclips",
    "bpy.data.fonts.load",
    "bpy.context.preferences",
    "bpy.types.Operator",
    "bpy.types.Panel",
    "bpy.types.AddonPreferences",
    "bpy.msgbus",
    "bpy.path",
)
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "filepath",
        "filepath_raw",
        "use_autopack",
        "driver_add",
        "save_render",
        "save_as",
        "pack",
        "unpack",
        "reload",
        "load",
        "use_module",
        "frame_change_pre",
        "frame_change_post",
    }
)
MAX_PROGRAM_CHARS = 200_000


def _dotted(node: ast.AST) -> str | None:
    """'bpy.ops.wm.open_mainfile' for an attribute chain rooted at a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def check_program(code: str) -> list[str]:
    """Reasons to refuse this program; an empty list means it may run."""
    if len(code) > MAX_PROGRAM_CHARS:
        return [f"the program is {len(code)} characters; the limit is {MAX_PROGRAM_CHARS}"]
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [f"SyntaxError: {exc.msg} at line {exc.lineno}"]
    problems: list[str] = []
    aliases: dict[str, str] = {}

    def refuse(node: ast.AST, reason: str) -> None:
        line = getattr(node, "lineno", "?")
        problems.append(f"line {line}: {reason}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in ALLOWED_IMPORTS:
                    refuse(node, f"import of '{alias.name}' is not allowed")
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level or module.split(".")[0] not in ALLOWED_IMPORTS:
                refuse(node, f"import from '{module or '.'}' is not allowed")
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
        elif isinstance(node, ast.Name):
            if node.id in FORBIDDEN_NAMES or (node.id.startswith("__") and node.id.endswith("__") and node.id != "__name__"):
                refuse(node, f"use of '{node.id}' is not allowed")
            elif node.id in FORBIDDEN_CALLS:
                refuse(node, f"'{node.id}' is not allowed in a scene program")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                refuse(node, f"access to private attribute '{node.attr}' is not allowed")
            elif node.attr in FORBIDDEN_ATTRIBUTES:
                refuse(node, f"'.{node.attr}' touches files or code and is not allowed")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "delattr", "hasattr"):
                if len(node.args) < 2 or not isinstance(node.args[1], ast.Constant):
                    refuse(node, f"'{func.id}' needs a literal attribute name")
                elif str(node.args[1].value).startswith("_") or node.args[1].value in FORBIDDEN_ATTRIBUTES:
                    refuse(node, f"'{func.id}' of '{node.args[1].value}' is not allowed")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("__") and node.value.endswith("__"):
                refuse(node, "dunder strings are not allowed")

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            resolved = aliases.get(head, head) + ("." + rest if rest else "")
            for prefix in FORBIDDEN_BPY:
                if resolved == prefix or resolved.startswith(prefix + ".") or (
                    prefix.endswith("_") and resolved.startswith(prefix)
                ):
                    refuse(node, f"'{resolved}' is outside what a scene program may do")
                    break
    seen: set[str] = set()
    return [p for p in problems if not (p in seen or seen.add(p))]
