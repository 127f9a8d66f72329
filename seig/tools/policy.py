"""Static policy for model-written Blender programs, checked before anything runs.

A scene program builds geometry, materials, lights and a camera. It has no
business with files, processes, the network, or Blender's script machinery, so
those are refused here with line numbers and a reason the coder can act on.

Rules are about *names*, not about where a value came from, so aliasing does not
help: ``b = bpy; b.ops.wm.quit_blender()`` is refused because ``.ops`` may only
appear as ``<x>.ops.<category>.<operator>(...)`` with an allowed category, and
``.app``, ``.texts``, ``.filepath``, ... are refused wherever they appear.
Strings that could become attribute names at run time (``getattr``, ``format``
fields, dunder text, node type names) must be literals the policy can read.

This is the first layer; the worker's guarded namespace and audit hook, and the
operating-system sandbox (``seig.tools.isolation``) are the others.
"""

from __future__ import annotations

import ast
import re
import string

# Keep in step with seig.tools.worker.ALLOWED_MODULES (a test checks they match).
ALLOWED_IMPORTS = frozenset(
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
# Dotted imports and `from X import Y` names that reach into a module's script machinery.
FORBIDDEN_IMPORT_NAMES = frozenset({"ops", "app", "utils", "path", "msgbus", "attrgetter", "methodcaller"})
ALLOWED_SUBMODULES = frozenset({"bpy.types", "bpy.props", "bmesh.types", "bmesh.geometry"})

FORBIDDEN_NAMES = frozenset(
    {
        "open", "exec", "eval", "compile", "__import__", "globals", "locals", "vars", "breakpoint",
        "input", "help", "exit", "quit", "license", "credits", "copyright", "memoryview",
    }
)
ATTRIBUTE_BUILTINS = frozenset({"getattr", "setattr", "delattr", "hasattr"})

# bpy.ops categories a scene program may call, and operator names refused even inside them.
ALLOWED_OPERATOR_CATEGORIES = frozenset(
    {
        "mesh", "object", "curve", "curves", "surface", "transform", "material", "uv", "collection",
        "scene", "world", "texture", "constraint", "particle", "rigidbody", "anim", "armature", "pose",
        "lattice", "font", "camera", "geometry", "mball", "pointcloud",
    }
)
FORBIDDEN_OPERATOR = re.compile(
    r"bake|save|load|open|import|export|file|script|external|cache|image|paste|freestyle|execute|quick_"
)
OPERATOR_METHODS = frozenset({"poll", "get_rna_type", "idname", "idname_py"})
APP_ATTRIBUTES = frozenset({"version", "version_string", "version_file", "version_cycle"})

# Attributes refused wherever they appear: interpreter internals, file and script APIs.
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        # frames, code and introspection (reach real builtins and module globals)
        "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
        "ag_await", "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "f_trace", "tb_frame",
        "tb_next", "co_code", "co_consts", "mro", "attrgetter", "methodcaller", "format_map", "vformat",
        # files
        "filepath", "filepath_raw", "filepath_from_user", "directory", "base_path", "file_slots",
        "cache_directory", "cache_file", "bake_directory", "save", "save_as", "save_render", "pack",
        "unpack", "reload", "load", "write", "use_autopack", "libraries", "sequence_editor",
        "sequence_editor_create", "preferences", "window_manager",
        # code that runs later or elsewhere
        "texts", "as_module", "as_string", "use_module", "handlers", "driver_namespace", "timers",
        "translations", "msgbus", "utils", "path", "driver_add", "drivers", "driver", "expression",
        "use_self", "script", "bytecode", "bytecode_hash", "shading_system", "draw_handler_add",
        "path_resolve", "register_class", "keyconfigs",
    }
)
# Node and modifier types that run scripts or read and write files.
FORBIDDEN_TYPE_NAMES = re.compile(
    r"^(ShaderNodeScript|CompositorNodeOutputFile|GeometryNodeImport\w*|NodeGroupImport\w*|"
    r"MESH_CACHE|MESH_SEQUENCE_CACHE|ShaderNodeTexIES)$"
)
PATH_LIKE = re.compile(r"^(/[\w.~-]|~|//|[A-Za-z]:[\\/]|\\\\|file:|https?:|ftp:)|(^|[\\/])\.\.([\\/]|$)")
FILE_KEYWORDS = re.compile(r"file|(?<!data_)path|director")
MAX_PROGRAM_CHARS = 200_000


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _is_called(node: ast.AST, parents: dict) -> bool:
    parent = parents.get(node)
    return isinstance(parent, ast.Call) and parent.func is node


def _format_fields_are_plain(template: str) -> bool:
    """True when every replacement field is positional or a name: no '.attr' or '[key]' lookups."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return False
    return all(
        not name or ("." not in name and "[" not in name and "{" not in (spec or "")) for _, name, spec, _ in parsed
    )


class _Checker:
    """Walks the tree once and collects 'line N: reason' problems."""

    def __init__(self, tree: ast.AST) -> None:
        self.tree = tree
        self.parents = _parents(tree)
        self.problems: list[str] = []

    def refuse(self, node: ast.AST, reason: str) -> None:
        self.problems.append(f"line {getattr(node, 'lineno', '?')}: {reason}")

    def check(self) -> list[str]:
        for node in ast.walk(self.tree):
            method = getattr(self, f"_{type(node).__name__}", None)
            if method is not None:
                method(node)
        seen: set[str] = set()
        return [p for p in self.problems if not (p in seen or seen.add(p))]

    def _Import(self, node: ast.Import) -> None:
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] not in ALLOWED_IMPORTS:
                allowed = ", ".join(sorted(ALLOWED_IMPORTS))
                self.refuse(node, f"import of '{alias.name}' is not allowed (allowed: {allowed})")
            elif len(parts) > 1 and alias.name not in ALLOWED_SUBMODULES:
                self.refuse(node, f"import of '{alias.name}' is not allowed; import '{parts[0]}' instead")

    def _ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module.split(".")[0] not in ALLOWED_IMPORTS:
            self.refuse(node, f"import from '{module or '.'}' is not allowed")
            return
        for alias in node.names:
            if alias.name == "*" or alias.name.startswith("_") or alias.name in FORBIDDEN_IMPORT_NAMES:
                self.refuse(node, f"'from {module} import {alias.name}' is not allowed")

    def _Name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("__") and name.endswith("__") and name != "__name__":
            self.refuse(node, f"use of '{name}' is not allowed")
        elif name in FORBIDDEN_NAMES:
            self.refuse(node, f"'{name}' is not allowed in a scene program")
        elif name in ATTRIBUTE_BUILTINS and not _is_called(node, self.parents):
            self.refuse(node, f"'{name}' may only be called directly, with a literal attribute name")

    def _Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr.startswith("_"):
            self.refuse(node, f"access to private attribute '{attr}' is not allowed")
        elif attr in FORBIDDEN_ATTRIBUTES:
            self.refuse(node, f"'.{attr}' touches files, code or interpreter internals and is not allowed")
        elif attr == "ops":
            self._operator(node)
        elif attr == "app":
            parent = self.parents.get(node)
            if not (isinstance(parent, ast.Attribute) and parent.attr in APP_ATTRIBUTES):
                self.refuse(node, "only bpy.app.version and version_string are available to a scene program")
        elif attr == "format" and not self._plain_format_call(node):
            self.refuse(node, "'.format' needs a literal template without '.attr' or '[key]' fields; use an f-string")

    def _plain_format_call(self, node: ast.Attribute) -> bool:
        return (
            isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            and _is_called(node, self.parents)
            and _format_fields_are_plain(node.value.value)
        )

    def _operator(self, node: ast.Attribute) -> None:
        """`.ops` only as `x.ops.f(...)` (bmesh) or `x.ops.<category>.<operator>(...)` (bpy)."""
        first = self.parents.get(node)
        if isinstance(first, ast.Attribute) and _is_called(first, self.parents):
            return
        second = self.parents.get(first)
        if isinstance(first, ast.Attribute) and isinstance(second, ast.Attribute):
            third = self.parents.get(second)
            called = _is_called(second, self.parents) or (
                isinstance(third, ast.Attribute) and third.attr in OPERATOR_METHODS and _is_called(third, self.parents)
            )
            if called:
                if first.attr not in ALLOWED_OPERATOR_CATEGORIES:
                    self.refuse(node, f"operators in 'bpy.ops.{first.attr}' are not allowed in a scene program")
                elif FORBIDDEN_OPERATOR.search(second.attr):
                    self.refuse(node, f"'bpy.ops.{first.attr}.{second.attr}' reads or writes files and is not allowed")
                return
        self.refuse(node, "operators must be called directly, as bpy.ops.<category>.<operator>(...)")

    def _Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ATTRIBUTE_BUILTINS:
            name = node.args[1] if len(node.args) >= 2 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self.refuse(node, f"'{func.id}' needs a literal attribute name")
            elif name.value.startswith("_") or name.value in FORBIDDEN_ATTRIBUTES or name.value in ("ops", "app"):
                self.refuse(node, f"'{func.id}' of '{name.value}' is not allowed")
        for keyword in node.keywords:
            if keyword.arg and FILE_KEYWORDS.search(keyword.arg):
                self.refuse(node, f"the keyword '{keyword.arg}=' points at files and is not allowed")
        if isinstance(func, ast.Attribute) and func.attr == "new" and self._is_node_collection(func.value):
            kind = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "type"), None)
            if not (isinstance(kind, ast.Constant) and isinstance(kind.value, str)):
                self.refuse(node, "nodes.new needs a literal node type name, so the policy can check it")

    @staticmethod
    def _is_node_collection(node: ast.AST) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "nodes") or (
            isinstance(node, ast.Name) and node.id == "nodes"
        )

    def _MatchClass(self, node: ast.MatchClass) -> None:
        for attr in node.kwd_attrs:
            if attr.startswith("_") or attr in FORBIDDEN_ATTRIBUTES:
                self.refuse(node, f"matching on attribute '{attr}' is not allowed")

    def _Constant(self, node: ast.Constant) -> None:
        value = node.value
        if not isinstance(value, str) or isinstance(self.parents.get(node), ast.Expr):
            return  # a bare string (a docstring) does nothing
        if "__" in value:
            self.refuse(node, "strings containing '__' are not allowed")
        elif FORBIDDEN_TYPE_NAMES.match(value):
            self.refuse(node, f"'{value}' runs scripts or touches files and is not allowed")
        elif value in FORBIDDEN_ATTRIBUTES:
            self.refuse(node, f"the string '{value}' names a forbidden attribute")
        elif PATH_LIKE.search(value):
            self.refuse(node, f"the path '{value[:60]}' is outside the run directory; scene programs use no files")

    def _arg(self, node: ast.arg) -> None:
        self._annotation(node.annotation)

    def _FunctionDef(self, node: ast.FunctionDef) -> None:
        self._annotation(node.returns)

    _AsyncFunctionDef = _FunctionDef

    def _AnnAssign(self, node: ast.AnnAssign) -> None:
        self._annotation(node.annotation)

    def _annotation(self, node: ast.AST | None) -> None:
        """String annotations are code that typing/functools may evaluate later."""
        if node is not None and any(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in ast.walk(node)):
            self.refuse(node, "string annotations are not allowed")


def check_program(code: str) -> list[str]:
    """Reasons to refuse this program, each 'line N: reason'; an empty list means it may run."""
    if len(code) > MAX_PROGRAM_CHARS:
        return [f"the program is {len(code)} characters; the limit is {MAX_PROGRAM_CHARS}"]
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [f"line {exc.lineno}: SyntaxError: {exc.msg}"]
    except (RecursionError, MemoryError, ValueError) as exc:
        return [f"the program could not be parsed ({type(exc).__name__}); simplify deeply nested expressions"]
    try:
        return _Checker(tree).check()
    except RecursionError:
        return ["the program is nested too deeply to check"]
