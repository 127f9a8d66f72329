"""Finding the literal in a scene program that sets a named property, and rewriting only it.

Reads the program's top-level statements the way people (and models) write
Blender scenes: ``bpy.ops.mesh.primitive_*_add(location=...)`` followed by
``obj = bpy.context.active_object; obj.name = "Sphere"``, or
``bpy.data.objects.new("Sphere", data)``; ``obj.location.x = 1``;
``mat.node_tree.nodes["Principled BSDF"].inputs["Metallic"].default_value = 0``.
The *last* write to the property wins, so that is the literal edited; when
the last write is not a literal (or nothing is found) this returns None and
the caller appends an edit block instead. The caller also re-checks the
result in Blender, so a wrong guess here never goes unnoticed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from seig.apps.inspect import input_key
from seig.apps.values import format_value

COMPONENTS = {"x": 0, "y": 1, "z": 2}
OP_KWARGS = {"location": "location", "rotation": "rotation_euler", "scale": "scale"}
ACTIVE_OBJECT = ("bpy.context.active_object", "bpy.context.object", "bpy.context.view_layer.objects.active")


@dataclass(eq=False)
class Binding:
    """What one assignment to a variable refers to: an object, a material, a BSDF node or light/camera data."""

    kind: str
    name: str | None = None
    material: Binding | None = None
    data: Binding | None = None


@dataclass
class Write:
    owner: Binding
    path: tuple
    node: ast.expr | None  # the literal, or None when the value is not a literal
    order: int


@dataclass
class Scan:
    writes: list[Write] = field(default_factory=list)
    links: list[tuple[Binding, Binding]] = field(default_factory=list)


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _const_str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, (ast.Tuple, ast.List)):
        return bool(node.elts) and all(_is_number(e) for e in node.elts)
    return _is_number(node) or (isinstance(node, ast.Constant) and isinstance(node.value, bool))


def _chain(target: ast.AST) -> tuple[ast.AST, list]:
    """`a.b["c"].d[0]` -> (node a, ['b', 'c', 'd', 0])."""
    parts: list = []
    while True:
        if isinstance(target, ast.Attribute):
            parts.append(target.attr)
            target = target.value
        elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
            parts.append(target.slice.value)
            target = target.value
        else:
            return target, list(reversed(parts))


class Scanner:
    def __init__(self) -> None:
        self.vars: dict[str, Binding] = {}
        self.scan = Scan()
        self.last_op: ast.Call | None = None
        self.last_op_order = -1

    def owner(self, root: ast.AST) -> Binding | None:
        """The binding a write's root refers to: a variable, or `bpy.data.objects["N"]`."""
        if isinstance(root, ast.Name):
            return self.vars.get(root.id)
        if isinstance(root, ast.Subscript) and _dotted(root.value) == "bpy.data.objects":
            name = _const_str(root.slice)
            return Binding("object", name) if name else None
        return None

    def bind(self, var: str, value: ast.AST, order: int) -> None:
        self.vars.pop(var, None)
        dotted = _dotted(value)
        if dotted in ACTIVE_OBJECT:
            binding = Binding("object")
            if self.last_op is not None:
                self._op_writes(binding, self.last_op, self.last_op_order)
            self.vars[var] = binding
            return
        if isinstance(value, ast.Subscript):
            base = _dotted(value.value)
            key = _const_str(value.slice)
            if base == "bpy.data.objects" and key:
                self.vars[var] = Binding("object", key)
            elif base == "bpy.data.materials" and key:
                self.vars[var] = Binding("material", key)
            elif base and base.endswith(".node_tree.nodes") and key == "Principled BSDF":
                self.vars[var] = Binding("bsdf", material=self.vars.get(base.split(".")[0]))
            return
        if not isinstance(value, ast.Call):
            return
        func = _dotted(value.func) or ""
        args = value.args
        if func == "bpy.data.objects.new" and args:
            data = self.vars.get(args[1].id) if len(args) > 1 and isinstance(args[1], ast.Name) else None
            self.vars[var] = Binding("object", _const_str(args[0]), data=data)
        elif func == "bpy.data.materials.new":
            self.vars[var] = Binding("material", _const_str(args[0]) if args else None)
        elif func in ("bpy.data.lights.new", "bpy.data.cameras.new"):
            self.vars[var] = Binding("data")
        elif func.endswith(".node_tree.nodes.get") and args and _const_str(args[0]) == "Principled BSDF":
            self.vars[var] = Binding("bsdf", material=self.vars.get(func.split(".")[0]))
        elif func.endswith(".node_tree.nodes.new") and args and _const_str(args[0]) == "ShaderNodeBsdfPrincipled":
            self.vars[var] = Binding("bsdf", material=self.vars.get(func.split(".")[0]))

    def _op_writes(self, binding: Binding, call: ast.Call, order: int) -> None:
        for keyword in call.keywords:
            if keyword.arg in OP_KWARGS:
                node = keyword.value if _is_literal(keyword.value) else None
                self.scan.writes.append(Write(binding, (OP_KWARGS[keyword.arg],), node, order))

    def write(self, target: ast.AST, value: ast.AST | None, order: int) -> None:
        root, path = _chain(target)
        owner = self.owner(root)
        if owner is None or not path:
            return
        if owner.kind == "material" and path[:3] == ["node_tree", "nodes", "Principled BSDF"]:
            owner, path = Binding("bsdf", material=owner), path[3:]
        if owner.kind == "object" and path == ["name"] and _const_str(value):
            owner.name = _const_str(value)
            return
        if owner.kind == "object" and path[:1] == ["active_material"] and isinstance(value, ast.Name):
            material = self.vars.get(value.id)
            if material is not None:
                self.scan.links.append((owner, material))
            return
        if owner.kind == "object" and path[:2] == ["data", "materials"] and path[2:] == [0] and isinstance(value, ast.Name):
            material = self.vars.get(value.id)
            if material is not None:
                self.scan.links.append((owner, material))
            return
        if len(path) == 2 and path[1] in COMPONENTS:
            path = [path[0], COMPONENTS[path[1]]]
        node = value if value is not None and _is_literal(value) else None
        self.scan.writes.append(Write(owner, tuple(path), node, order))

    def statement(self, stmt: ast.stmt, order: int) -> None:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                self.bind(target.id, stmt.value, order)
            else:
                self.write(target, stmt.value, order)
        elif isinstance(stmt, ast.AugAssign):
            self.write(stmt.target, None, order)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            func = _dotted(call.func) or ""
            if func.startswith("bpy.ops.") and func.endswith("_add"):
                self.last_op, self.last_op_order = call, order
            elif func.endswith(".data.materials.append") and call.args and isinstance(call.args[0], ast.Name):
                owner = self.vars.get(func.split(".")[0])
                material = self.vars.get(call.args[0].id)
                if owner is not None and owner.kind == "object" and material is not None:
                    self.scan.links.append((owner, material))


def scan_program(tree: ast.Module) -> Scan:
    scanner = Scanner()
    for order, stmt in enumerate(tree.body):
        scanner.statement(stmt, order)
    return scanner.scan


def _site(scan: Scan, obj: str, path: tuple) -> tuple[ast.expr, int | None] | None:
    """The literal node holding the property's final value (and a tuple index into it), or None."""
    head = path[0]
    if head in ("location", "rotation_euler", "scale"):
        relevant = [w for w in scan.writes if w.owner.kind == "object" and w.owner.name == obj and w.path[0] == head]
        if len(path) == 2:
            relevant = [w for w in relevant if len(w.path) == 1 or w.path[1] == path[1]]
    elif head == "material":
        material = next((m for o, m in scan.links if o.name == obj), None)
        if material is None:
            return None
        relevant = [
            w
            for w in scan.writes
            if w.owner.kind == "bsdf"
            and w.owner.material is material
            and len(w.path) == 3
            and w.path[0] == "inputs"
            and isinstance(w.path[1], str)
            and input_key(w.path[1]) == path[1]
            and w.path[2] == "default_value"
        ]
    elif head == "data":
        owners = {id(w.owner.data) for w in scan.writes if w.owner.kind == "object" and w.owner.name == obj and w.owner.data}
        relevant = [
            w
            for w in scan.writes
            if (w.owner.kind == "object" and w.owner.name == obj and w.path == ("data", path[1]))
            or (id(w.owner) in owners and w.path == (path[1],))
        ]
    else:
        return None
    if not relevant:
        return None
    last = max(relevant, key=lambda w: w.order)
    if last.node is None:
        return None
    if len(path) == 2 and head in ("location", "rotation_euler", "scale"):
        if len(last.path) == 2:
            return last.node, None
        elements = last.node.elts if isinstance(last.node, (ast.Tuple, ast.List)) else []
        return (last.node, path[1]) if path[1] < len(elements) else None
    if head in ("location", "rotation_euler", "scale") and len(last.path) == 2:
        return None  # the whole vector is wanted but a single component was written last
    return last.node, None


def _replace(program: str, node: ast.expr, text: str) -> str:
    lines = program.encode("utf-8").splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    data = program.encode("utf-8")
    begin = starts[node.lineno - 1] + node.col_offset
    end = starts[node.end_lineno - 1] + node.end_col_offset
    return (data[:begin] + text.encode("utf-8") + data[end:]).decode("utf-8")


def edit_literal(program: str, obj: str, path: tuple, value) -> str | None:
    """The program with only the literal that sets obj.<path> rewritten to value, or None."""
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return None
    site = _site(scan_program(tree), obj, path)
    if site is None:
        return None
    node, index = site
    if index is not None:
        node = node.elts[index]  # type: ignore[attr-defined]
    old_is_tuple = isinstance(node, (ast.Tuple, ast.List))
    if old_is_tuple != isinstance(value, tuple):
        return None
    if old_is_tuple and len(node.elts) != len(value):  # type: ignore[attr-defined]
        return None
    return _replace(program, node, format_value(value))
