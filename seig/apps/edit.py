"""Structured edits: `Sphere.location.x=-1.2`, `Sphere.material.metallic=1`, `Sun.data.energy=5`.

An edit rewrites the literal that sets the property when the program has one
(a one-line diff the user can read), and otherwise appends a marked edit block.
Either way the result is checked in Blender: the scene before and after must
differ in exactly the named property, or the edit is refused. The previous
program is kept (``scene.prev.py`` and ``edits/NNN/``) and, for a run with a
thread, the edit becomes a checkpoint so history and fork can undo it.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from seig.apps.inspect import TRANSFORMS, inspect_blend
from seig.apps.literal_edit import COMPONENTS, edit_literal
from seig.apps.run import AppError, Run, run_program
from seig.apps.values import format_value, literal_value
from seig.context import Context
from seig.tools.executor import RenderSpec

ALIASES = {"rotation": "rotation_euler"}
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Assignment:
    """One `--set TARGET=VALUE`, resolved against the scene: obj, a path such as ('location', 0), a value."""

    text: str
    obj: str
    path: tuple
    value: object

    @property
    def label(self) -> str:
        return f"{self.obj}.{'.'.join('xyz'[p] if isinstance(p, int) else p for p in self.path)} = {format_value(self.value)}"


@dataclass
class EditResult:
    program: Path
    previous: Path
    image: Path
    methods: list[tuple[str, str]] = field(default_factory=list)  # (assignment, "literal" | "block")
    checkpoint_id: str | None = None
    warning: str | None = None


def split_assignment(text: str) -> tuple[str, object]:
    """'Sphere.location.x=-1.2' -> ('Sphere.location.x', -1.2), refusing what cannot be an edit."""
    target, sep, value = text.partition("=")
    target = target.strip()
    if not sep or not value.strip() or "." not in target or target.startswith(".") or target.endswith("."):
        raise AppError(f"--set '{text}' is not OBJECT.PROPERTY=VALUE (e.g. Sphere.location.x=-1.2)")
    try:
        return target, literal_value(value)
    except AppError as exc:
        raise AppError(f"--set '{text}': {exc}") from None


def _current(description: dict, path: tuple):
    value = description.get(path[0]) if path[0] in TRANSFORMS else description.get(path[0], {}).get(path[1])
    return value[path[1]] if path[0] in TRANSFORMS and len(path) == 2 else value


def _coerce(text: str, current, value):
    """The typed value in the shape of the property's current value."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise AppError(f"--set '{text}': this property is True or False")
        return value
    if isinstance(current, float):
        if not isinstance(value, float):
            raise AppError(f"--set '{text}': this property is a single number")
        return value
    if isinstance(value, tuple) and len(value) == 4 and len(current) == 3 and value[3] == 1.0:
        value = value[:3]  # a hex colour given for an RGB property
    elif isinstance(value, tuple) and len(value) == 3 and len(current) == 4:
        value = (*value, 1.0)  # RGB given for an RGBA colour
    if not isinstance(value, tuple) or len(value) != len(current):
        raise AppError(f"--set '{text}': this property takes {len(current)} numbers, e.g. {format_value(tuple(current))}")
    return value


def resolve_assignment(text: str, objects: dict) -> Assignment:
    """Parse `--set` text against the scene's objects (names may contain dots, e.g. 'Cube.001')."""
    target, value = split_assignment(text)
    name = next((n for n in sorted(objects, key=len, reverse=True) if target.startswith(n + ".")), None)
    if name is None:
        raise AppError(f"--set '{text}': no object named '{target.split('.')[0]}'; objects: {', '.join(sorted(objects))}")
    description = objects[name]
    parts = target[len(name) + 1 :].split(".")
    head = ALIASES.get(parts[0], parts[0])
    if head in TRANSFORMS and len(parts) == 1:
        path: tuple = (head,)
    elif head in TRANSFORMS and len(parts) == 2 and parts[1] in COMPONENTS:
        path = (head, COMPONENTS[parts[1]])
    elif head in ("material", "data") and len(parts) == 2:
        if head not in description:
            what = "Principled BSDF material" if head == "material" else "light or camera data"
            raise AppError(f"--set '{text}': {name} has no {what}")
        if parts[1] not in description[head]:
            known = ", ".join(sorted(description[head]))
            raise AppError(f"--set '{text}': {name}.{head} has no '{parts[1]}'; known: {known}")
        path = (head, parts[1])
    else:
        raise AppError(
            f"--set '{text}': unknown property '{'.'.join(parts)}'; use location|rotation_euler|scale[.x|.y|.z], "
            "material.<principled input> or data.<light/camera setting>"
        )
    return Assignment(text, name, path, _coerce(text, _current(description, path), value))


def edit_block(assignment: Assignment) -> str:
    """An appended, marked block setting the property; shared materials/data are copied so only this object changes."""
    head = assignment.path[0]
    value = format_value(assignment.value)
    lines = [f"# ---- seig edit: {assignment.label} ----", f"seig_obj = bpy.data.objects[{assignment.obj!r}]"]
    if head in TRANSFORMS:
        suffix = "." + "xyz"[assignment.path[1]] if len(assignment.path) == 2 else ""
        lines.append(f"seig_obj.{head}{suffix} = {value}")
    elif head == "material":
        lines += [
            "seig_slot = next(s for s in seig_obj.material_slots if s.material)",
            "if seig_slot.material.users > 1:  # shared: give this object its own copy",
            "    seig_slot.material = seig_slot.material.copy()",
            "seig_bsdf = next(n for n in seig_slot.material.node_tree.nodes if n.type == 'BSDF_PRINCIPLED')",
            "seig_input = next(i for i in seig_bsdf.inputs if i.name.lower().replace(' ', '_') == "
            f"{assignment.path[1]!r})",
            f"seig_input.default_value = {value}",
        ]
    else:
        lines += [
            "if seig_obj.data.users > 1:  # shared: give this object its own copy",
            "    seig_obj.data = seig_obj.data.copy()",
            f"seig_obj.data.{assignment.path[1]} = {value}",
        ]
    return "\n".join(lines) + "\n"


def expected_after(objects: dict, assignment: Assignment) -> dict:
    expected = copy.deepcopy(objects)
    description = expected[assignment.obj]
    head, rest = assignment.path[0], assignment.path[1:]
    value = list(assignment.value) if isinstance(assignment.value, tuple) else assignment.value
    if head in TRANSFORMS and rest:
        description[head][rest[0]] = value
    elif head in TRANSFORMS:
        description[head] = value
    else:
        description[head][rest[0]] = value
    return expected


def same_scene(a, b) -> bool:
    """Equal within TOLERANCE, recursively."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_scene(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_scene(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))
    return a == b


class SceneChecker:
    """Runs a program in the sandbox and dumps the saved scene in a trusted process."""

    def __init__(self, ctx: Context | None, scratch: Path) -> None:
        self.ctx = ctx or Context()
        self.scratch = scratch
        self.count = 0

    def objects(self, program: str, what: str) -> dict:
        self.count += 1
        blend = self.scratch / f"check_{self.count}.blend"
        run_program(program, self.ctx, blend_out=blend, what=what)
        return inspect_blend(blend, timeout=self.ctx.job_timeout)


def apply_assignments(program: str, texts: list[str], checker: SceneChecker) -> tuple[str, list[tuple[str, str]]]:
    """The program with every assignment applied and verified; returns it and how each was applied."""
    for text in texts:
        split_assignment(text)  # refuse malformed input before any Blender work
    objects = checker.objects(program, "the scene program")
    methods = []
    for text in texts:
        assignment = resolve_assignment(text, objects)
        expected = expected_after(objects, assignment)
        candidates = [("literal", edit_literal(program, assignment.obj, assignment.path, assignment.value))]
        candidates.append(("block", program.rstrip() + "\n\n" + edit_block(assignment)))
        for method, candidate in candidates:
            if candidate is None:
                continue
            after = checker.objects(candidate, f"the edited program ({assignment.label})")
            if same_scene(after, expected):
                program, objects = candidate, after
                methods.append((assignment.label, method))
                break
        else:
            raise AppError(f"--set '{text}': the program overrides this property, so the edit cannot take effect")
    return program, methods


def _keep_previous(run: Run) -> Path:
    """Copy the current scene.py, scene.blend and final.png to edits/NNN/ and scene.prev.py."""
    edits = run.dir / "edits"
    edits.mkdir(exist_ok=True)
    number = 1 + max((int(p.name) for p in edits.iterdir() if p.name.isdigit()), default=0)
    keep = edits / f"{number:03d}"
    keep.mkdir()
    for name in ("scene.py", "scene.blend", "final.png"):
        if (run.dir / name).exists():
            shutil.copy2(run.dir / name, keep / name)
    shutil.copy2(run.scene_py, run.dir / "scene.prev.py")
    return run.dir / "scene.prev.py"


def edit_run(
    run: Run,
    assignments: list[str],
    *,
    long_side: int | None = None,
    samples: int | None = None,
    ctx: Context | None = None,
) -> EditResult:
    """Apply `--set` assignments to the run's program, re-render, and write the new scene.py."""
    if not assignments:
        raise AppError("nothing to edit; give --set OBJECT.PROPERTY=VALUE or a free-text instruction")
    ctx = ctx or Context()
    with tempfile.TemporaryDirectory(prefix="seig-edit-") as scratch:
        program, methods = apply_assignments(run.program, assignments, SceneChecker(ctx, Path(scratch)))
        width, height = run.size(long_side) if long_side else (run.width, run.height)
        image, blend = Path(scratch) / "final.png", Path(scratch) / "scene.blend"
        run_program(program, ctx, blend_out=blend, render=RenderSpec(width, height, samples or run.samples), render_out=image)
        previous = _keep_previous(run)
        shutil.copy2(image, run.dir / "final.png")
        shutil.copy2(blend, run.dir / "scene.blend")
    run.scene_py.write_text(run.standalone(program), encoding="utf-8")
    run.program = program
    result = EditResult(program=run.scene_py, previous=previous, image=run.dir / "final.png", methods=methods)
    if run.thread_id:
        from seig.runs import RunNotFound, record_edit

        note = "edit: " + "; ".join(label for label, _ in methods)
        try:
            result.checkpoint_id = record_edit(run.thread_id, program, note, ctx)
        except RunNotFound as exc:  # e.g. a run directory copied away from its database
            result.warning = f"scene.py was edited, but no checkpoint was recorded: {exc}"
    return result


def edit_with_instruction(
    run: Run,
    instruction: str,
    *,
    model: str | None = None,
    base_url: str | None = None,
    ctx: Context | None = None,
    on_event: Callable[[dict], None] | None = None,
) -> bool:
    """A free-text edit through the engine's code-then-verify loop with a VLM.

    Returns True when the edit finished, False when it waits for approval (continue with `seig resume`).
    """
    if run.thread_id is None:
        raise AppError(
            "free-text edits need a VLM (--model openai:...) and a run recorded in the database (a thread id); "
            "offline, use --set OBJECT.PROPERTY=VALUE"
        )
    from seig.runs import RunNotFound, edit_with_model

    try:
        for event in edit_with_model(run.thread_id, instruction, ctx or Context(), model=model, base_url=base_url):
            if on_event is not None:
                on_event(event)
            if event["type"] == "error":
                raise AppError(f"the edit failed: {event['message']}")
            if event["type"] == "interrupt":
                return False
    except (ValueError, RunNotFound) as exc:
        raise AppError(str(exc)) from None
    return True
