"""Procedural scenes with known answers: the benchmark's ground truth.

A seed fixes everything: which objects (primitives and a few composites), their
materials, where they stand, the camera, the lights, the world and the ground.
From those parameters we write an ordinary scene program (the same contract a
model's program follows), render it through the sandboxed executor, render its
object-ID pass for masks, and store the parameters in ``truth.json`` so a
reconstruction can be scored on more than pixels.
"""

from __future__ import annotations

import colorsys
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from seig.bench.masks import render_mask
from seig.tools.executor import BlenderExecutor, RenderSpec, shared_executor

PRIMITIVES = ("cube", "sphere", "cylinder", "cone", "torus")
COMPOSITES = ("table", "snowman")
KINDS = PRIMITIVES + COMPOSITES
FINISHES = ("matte", "glossy", "metallic")
LIGHT_TYPES = ("SUN", "AREA", "POINT")
SENSOR_WIDTH = 36.0
GROUND_SIZE = 40.0

PROGRAM_FILE = "scene.py"
TARGET_FILE = "target.png"
MASK_FILE = "mask.png"
TRUTH_FILE = "truth.json"


@dataclass
class SceneCase:
    """One generated scene on disk, with its parameters."""

    seed: int
    directory: Path
    truth: dict
    resolution: int
    samples: int
    program_path: Path = field(init=False)
    target_path: Path = field(init=False)
    mask_path: Path = field(init=False)
    truth_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.program_path = self.directory / PROGRAM_FILE
        self.target_path = self.directory / TARGET_FILE
        self.mask_path = self.directory / MASK_FILE
        self.truth_path = self.directory / TRUTH_FILE

    @property
    def program(self) -> str:
        return self.program_path.read_text()

    @property
    def render_spec(self) -> RenderSpec:
        """How the target was rendered; a reconstruction is re-rendered the same way to be scored."""
        return RenderSpec(width=self.resolution, height=self.resolution, samples=self.samples, seed=0)


# -- sampling the parameters -------------------------------------------------


def _r(value: float) -> float:
    return round(float(value), 3)


def _vec(values) -> list[float]:
    return [_r(v) for v in values]


def _color_name(rgb: tuple[float, float, float]) -> str:
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    if v < 0.12:
        return "black"
    if s < 0.2:
        return "white" if v > 0.75 else "grey"
    names = ("red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "red")
    bounds = (0.04, 0.11, 0.19, 0.45, 0.54, 0.72, 0.83, 0.96, 1.01)
    return next(n for n, b in zip(names, bounds) if h < b)


def _material(rng: random.Random, finish: str | None = None) -> dict:
    finish = finish or rng.choice(FINISHES)
    hue = rng.random()
    saturation = rng.choice((0.0, 0.35, 0.6, 0.8)) if finish == "metallic" else rng.uniform(0.45, 0.9)
    value = rng.uniform(0.55, 0.9)
    color = _vec(colorsys.hsv_to_rgb(hue, saturation, value))
    roughness = {"matte": rng.uniform(0.6, 0.95), "glossy": rng.uniform(0.05, 0.25), "metallic": rng.uniform(0.15, 0.4)}
    return {
        "finish": finish,
        "base_color": color,
        "roughness": _r(roughness[finish]),
        "metallic": 1.0 if finish == "metallic" else 0.0,
    }


def _shape(rng: random.Random, kind: str) -> tuple[dict, float, float, float]:
    """Shape parameters, footprint radius on the ground, height of the origin above the ground, overall height."""
    if kind == "cube":
        size = _vec(rng.uniform(0.5, 1.2) for _ in range(3))
        return {"size": size}, math.hypot(size[0], size[1]) / 2, size[2] / 2, size[2]
    if kind == "sphere":
        radius = _r(rng.uniform(0.3, 0.75))
        return {"radius": radius}, radius, radius, 2 * radius
    if kind in ("cylinder", "cone"):
        radius, depth = _r(rng.uniform(0.25, 0.6)), _r(rng.uniform(0.5, 1.5))
        return {"radius": radius, "depth": depth}, radius, depth / 2, depth
    if kind == "torus":
        major, minor = _r(rng.uniform(0.35, 0.7)), _r(rng.uniform(0.1, 0.22))
        standing = rng.random() < 0.4
        lift = major + minor if standing else minor
        return {"major_radius": major, "minor_radius": minor, "standing": standing}, major + minor, lift, 2 * lift
    if kind == "table":
        width, depth = _r(rng.uniform(1.2, 1.9)), _r(rng.uniform(0.7, 1.1))
        height, thickness = _r(rng.uniform(0.6, 0.9)), 0.08
        return (
            {"width": width, "depth": depth, "height": height, "thickness": thickness, "leg_radius": 0.05},
            math.hypot(width, depth) / 2,
            height - thickness / 2,
            height,
        )
    if kind == "snowman":
        radius = _r(rng.uniform(0.35, 0.5))
        return {"radius": radius}, radius, radius, 4.2 * radius
    raise ValueError(f"unknown object kind: {kind}")


def _place(rng: random.Random, footprints: list[float]) -> list[tuple[float, float]]:
    """Non-intersecting ground positions, packed close enough for objects to hide each other."""
    spread = 0.8 + 0.45 * sum(footprints)
    placed: list[tuple[float, float, float]] = []
    for radius in footprints:
        for attempt in range(400):
            reach = spread * (1 + attempt / 200)
            angle, dist = rng.uniform(0, 2 * math.pi), reach * math.sqrt(rng.random())
            x, y = dist * math.cos(angle), dist * math.sin(angle)
            if all(math.hypot(x - px, y - py) > radius + pr + 0.05 for px, py, pr in placed):
                break
        placed.append((x, y, radius))
    return [(_r(x), _r(y)) for x, y, _ in placed]


def _look_at(eye, target) -> list[float]:
    """Blender XYZ Euler angles that point a camera or light (looking down its -Z) from eye at target."""
    dx, dy, dz = (t - e for t, e in zip(target, eye))
    return [_r(math.atan2(math.hypot(dx, dy), -dz)), 0.0, _r(math.atan2(-dx, dy))]


def _objects(rng: random.Random, kinds: tuple[str, ...], count: int) -> list[dict]:
    """Objects standing on the ground, named by colour and kind the way a planner would name them."""
    chosen = [rng.choice(kinds) for _ in range(count)]
    shapes = [_shape(rng, kind) for kind in chosen]
    positions = _place(rng, [footprint for _, footprint, _, _ in shapes])
    objects, used = [], set()
    for kind, (shape, footprint, lift, height), (x, y) in zip(chosen, shapes, positions):
        if kind == "snowman":
            material = {"finish": "matte", "base_color": [0.9, 0.9, 0.92], "roughness": 0.8, "metallic": 0.0}
        elif kind == "table":
            material = _material(rng, rng.choice(("matte", "glossy")))
        else:
            material = _material(rng)
        base = f"{_color_name(tuple(material['base_color']))}_{kind}"
        name, n = base, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        turn = _r(rng.uniform(0, math.pi)) if kind in ("cube", "table", "snowman", "torus") else 0.0
        tilt = _r(math.pi / 2) if kind == "torus" and shape["standing"] else 0.0
        objects.append(
            {
                "name": name,
                "shape": kind,
                "location": [x, y, _r(lift)],
                "rotation": [tilt, 0.0, turn],
                "scale": shape["size"] if kind == "cube" else [1.0, 1.0, 1.0],
                "params": shape,
                "footprint": _r(footprint),
                "height": _r(height),
                **material,
            }
        )
    return objects


def _camera(rng: random.Random, objects: list[dict]) -> dict:
    """A camera at a random height, heading and lens, far enough back to frame every object."""
    xs = [o["location"][0] for o in objects]
    ys = [o["location"][1] for o in objects]
    cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
    tallest = max(o["height"] for o in objects)
    target = (cx, cy, 0.4 * tallest)
    radius = max(math.hypot(o["location"][0] - cx, o["location"][1] - cy) + o["footprint"] for o in objects)
    radius = max(radius, 0.6 * tallest, 0.8)
    lens = _r(rng.uniform(28, 70))
    half_fov = math.atan(SENSOR_WIDTH / 2 / lens)
    distance = radius / math.sin(half_fov) * rng.uniform(1.0, 1.25)
    elevation, azimuth = math.radians(rng.uniform(12, 55)), rng.uniform(0, 2 * math.pi)
    eye = (
        target[0] + distance * math.cos(elevation) * math.cos(azimuth),
        target[1] + distance * math.cos(elevation) * math.sin(azimuth),
        target[2] + distance * math.sin(elevation),
    )
    return {
        "location": _vec(eye),
        "rotation": _look_at(eye, target),
        "lens": lens,
        "sensor_width": SENSOR_WIDTH,
        "target": _vec(target),
    }


def _lights(rng: random.Random, target: list[float]) -> list[dict]:
    lights = []
    kinds = [rng.choice(LIGHT_TYPES)]
    if rng.random() < 0.4:
        kinds.append(rng.choice(("AREA", "POINT")))
    for i, kind in enumerate(kinds):
        key = i == 0
        elevation, azimuth = math.radians(rng.uniform(30, 70)), rng.uniform(0, 2 * math.pi)
        distance = rng.uniform(4.0, 7.0)
        eye = (
            target[0] + distance * math.cos(elevation) * math.cos(azimuth),
            target[1] + distance * math.cos(elevation) * math.sin(azimuth),
            target[2] + distance * math.sin(elevation),
        )
        warmth = rng.uniform(-0.15, 0.15)
        light = {
            "name": "key_light" if key else "fill_light",
            "type": kind,
            "location": _vec(eye),
            "rotation": _look_at(eye, target),
            "color": _vec((1.0, 1.0 - abs(warmth) * 0.5, 1.0 - warmth) if warmth > 0 else (1.0 + warmth, 1.0, 1.0)),
        }
        strength = 1.0 if key else rng.uniform(0.2, 0.4)
        if kind == "SUN":
            light.update(energy=_r(rng.uniform(1.5, 3.0) * strength), angle=_r(rng.uniform(0.03, 0.2)))
        elif kind == "AREA":
            light.update(energy=_r(rng.uniform(20, 40) * distance**2 * strength), size=_r(rng.uniform(1.5, 4.0)))
        else:
            light.update(energy=_r(rng.uniform(25, 45) * distance**2 * strength), radius=_r(rng.uniform(0.1, 0.5)))
        lights.append(light)
    return lights


def sample_truth(seed: int, kinds=None, objects: int | None = None) -> dict:
    """All parameters of scene ``seed``: pure Python, deterministic, no Blender needed."""
    kinds = tuple(kinds or KINDS)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown object kinds: {', '.join(unknown)} (known: {', '.join(KINDS)})")
    rng = random.Random(seed)
    count = objects if objects is not None else rng.randint(1, 8)
    if not 1 <= count <= 8:
        raise ValueError(f"a scene has 1 to 8 objects, not {count}")
    scene_objects = _objects(rng, kinds, count)
    camera = _camera(rng, scene_objects)
    world_hue, world_sat = rng.random(), rng.uniform(0.0, 0.35)
    world = {
        "color": _vec(colorsys.hsv_to_rgb(world_hue, world_sat, rng.uniform(0.25, 0.7))),
        "strength": _r(rng.uniform(0.3, 0.8)),
    }
    ground = {
        "color": _vec(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.5), rng.uniform(0.2, 0.65))),
        "roughness": _r(rng.uniform(0.5, 0.95)),
        "size": GROUND_SIZE,
    }
    return {
        "seed": seed,
        "objects": scene_objects,
        "camera": camera,
        "lights": _lights(rng, camera["target"]),
        "world": world,
        "ground": ground,
    }


# -- writing the program -----------------------------------------------------

PROGRAM_HEAD = '''"""Ground truth of seig bench scene {seed}: {summary}.

Written by seig.bench.generator; plain Blender Python that builds the whole scene.
"""
import bpy

scene = bpy.context.scene


def material(name, color, roughness, metallic):
    """A Principled BSDF material."""
    mat = bpy.data.materials.new(name)
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Metallic"].default_value = metallic
    return mat


def finish(name, mat, smooth=False):
    """Name the object just added, give it a material, optionally smooth-shade it."""
    obj = bpy.context.active_object
    obj.name = name
    obj.data.materials.append(mat)
    if smooth:
        obj.data.shade_smooth()
    return obj


def join(name, parts):
    """Merge parts into one object; the first part's origin becomes the object's origin."""
    with bpy.context.temp_override(active_object=parts[0], selected_editable_objects=parts):
        bpy.ops.object.join()
    parts[0].name = name
    return parts[0]


def add_light(name, kind, location, rotation, energy, color):
    light = bpy.data.lights.new(name, kind)
    light.energy = energy
    light.color = color
    obj = bpy.data.objects.new(name, light)
    scene.collection.objects.link(obj)
    obj.location = location
    obj.rotation_euler = rotation
    return obj

'''


def _t(values) -> str:
    return "(" + ", ".join(repr(_r(v)) for v in values) + ")"


def _mat_call(name: str, obj: dict) -> str:
    return f"material({name!r}, {_t(obj['base_color'])}, {obj['roughness']!r}, {obj['metallic']!r})"


def _primitive_code(obj: dict) -> list[str]:
    kind, p, name = obj["shape"], obj["params"], obj["name"]
    where = f"location={_t(obj['location'])}, rotation={_t(obj['rotation'])}"
    mat = _mat_call(name, obj)
    if kind == "cube":
        return [f"bpy.ops.mesh.primitive_cube_add(size=1.0, {where}, scale={_t(p['size'])})", f"finish({name!r}, {mat})"]
    if kind == "sphere":
        add = f"bpy.ops.mesh.primitive_uv_sphere_add(radius={p['radius']!r}, segments=48, ring_count=24, {where})"
    elif kind == "cylinder":
        add = f"bpy.ops.mesh.primitive_cylinder_add(radius={p['radius']!r}, depth={p['depth']!r}, vertices=48, {where})"
    elif kind == "cone":
        add = f"bpy.ops.mesh.primitive_cone_add(radius1={p['radius']!r}, radius2=0.0, depth={p['depth']!r}, vertices=48, {where})"
    else:
        add = (
            f"bpy.ops.mesh.primitive_torus_add(major_radius={p['major_radius']!r}, minor_radius={p['minor_radius']!r}, "
            f"major_segments=48, minor_segments=16, {where})"
        )
    return [add, f"finish({name!r}, {mat}, smooth=True)"]


def _table_code(obj: dict) -> list[str]:
    p, (x, y, z), turn = obj["params"], obj["location"], obj["rotation"][2]
    leg_height = _r(p["height"] - p["thickness"])
    lines = [
        f"# {obj['name']}: a top on four legs, built square to the axes, then turned {turn} rad",
        f"table_mat = {_mat_call(obj['name'], obj)}",
        f"bpy.ops.mesh.primitive_cube_add(size=1.0, location=({x!r}, {y!r}, {z!r}), "
        f"scale=({p['width']!r}, {p['depth']!r}, {p['thickness']!r}))",
        "bpy.ops.object.transform_apply(location=False, rotation=False, scale=True)",
        "parts = [finish('table_top', table_mat)]",
    ]
    for sx, sy in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        lx, ly = _r(x + sx * (p["width"] / 2 - 0.1)), _r(y + sy * (p["depth"] / 2 - 0.1))
        lines += [
            f"bpy.ops.mesh.primitive_cylinder_add(radius={p['leg_radius']!r}, depth={leg_height!r}, vertices=16, "
            f"location=({lx!r}, {ly!r}, {_r(leg_height / 2)!r}))",
            "parts.append(finish('table_leg', table_mat, smooth=True))",
        ]
    return lines + [f"join({obj['name']!r}, parts).rotation_euler = (0.0, 0.0, {turn!r})"]


def _snowman_code(obj: dict) -> list[str]:
    r, (x, y, z), turn = obj["params"]["radius"], obj["location"], obj["rotation"][2]
    mid, head = _r(0.7 * r), _r(0.5 * r)
    mid_z, head_z = _r(z + r + mid * 0.8), _r(z + r + mid * 1.6 + head * 0.8)
    nose_x = _r(x + head * 1.2)
    hat_z = _r(head_z + head * 0.9)
    return [
        f"# {obj['name']}: three snowballs, a carrot nose and a hat, built facing +X, then turned {turn} rad",
        f"snow = {_mat_call(obj['name'], obj)}",
        "parts = []",
        f"bpy.ops.mesh.primitive_uv_sphere_add(radius={r!r}, segments=48, ring_count=24, location=({x!r}, {y!r}, {z!r}))",
        "parts.append(finish('snow_base', snow, smooth=True))",
        f"bpy.ops.mesh.primitive_uv_sphere_add(radius={mid!r}, segments=48, ring_count=24, location=({x!r}, {y!r}, {mid_z!r}))",
        "parts.append(finish('snow_middle', snow, smooth=True))",
        f"bpy.ops.mesh.primitive_uv_sphere_add(radius={head!r}, segments=48, ring_count=24, location=({x!r}, {y!r}, {head_z!r}))",
        "parts.append(finish('snow_head', snow, smooth=True))",
        f"bpy.ops.mesh.primitive_cone_add(radius1={_r(head * 0.18)!r}, radius2=0.0, depth={_r(head * 0.7)!r}, vertices=16, "
        f"location=({nose_x!r}, {y!r}, {head_z!r}), rotation=(0.0, 1.5708, 0.0))",
        "parts.append(finish('carrot_nose', material('carrot', (0.9, 0.35, 0.05), 0.6, 0.0), smooth=True))",
        f"bpy.ops.mesh.primitive_cylinder_add(radius={_r(head * 0.7)!r}, depth={_r(head * 0.7)!r}, vertices=32, "
        f"location=({x!r}, {y!r}, {hat_z!r}))",
        "parts.append(finish('hat', material('hat', (0.03, 0.03, 0.03), 0.5, 0.0), smooth=True))",
        f"join({obj['name']!r}, parts).rotation_euler = (0.0, 0.0, {turn!r})",
    ]


def _light_code(light: dict) -> list[str]:
    extras = {"angle": light.get("angle"), "size": light.get("size"), "shadow_soft_size": light.get("radius")}
    return [
        f"light = add_light({light['name']!r}, {light['type']!r}, {_t(light['location'])}, {_t(light['rotation'])}, "
        f"{light['energy']!r}, {_t(light['color'])})"
    ] + [f"light.data.{key} = {value!r}" for key, value in extras.items() if value is not None]


def write_program(truth: dict) -> str:
    """The ground-truth scene program for a set of parameters."""
    shapes = ", ".join(o["name"].replace("_", " ") for o in truth["objects"])
    world, ground, cam = truth["world"], truth["ground"], truth["camera"]
    lines = [
        "# World: a flat background colour that also lights the scene",
        'background = scene.world.node_tree.nodes["Background"]',
        f'background.inputs["Color"].default_value = {_t(world["color"] + [1.0])}',
        f'background.inputs["Strength"].default_value = {world["strength"]!r}',
        "",
        "# Ground",
        f"bpy.ops.mesh.primitive_plane_add(size={ground['size']!r}, location=(0.0, 0.0, 0.0))",
        f"finish('ground', material('ground', {_t(ground['color'])}, {ground['roughness']!r}, 0.0))",
        "",
        "# Objects",
    ]
    for obj in truth["objects"]:
        if obj["shape"] == "table":
            lines += _table_code(obj)
        elif obj["shape"] == "snowman":
            lines += _snowman_code(obj)
        else:
            lines += _primitive_code(obj)
    lines += ["", "# Lights"]
    for light in truth["lights"]:
        lines += _light_code(light)
    lines += [
        "",
        "# Camera",
        "camera = bpy.data.objects.new('camera', bpy.data.cameras.new('camera'))",
        "scene.collection.objects.link(camera)",
        f"camera.data.lens = {cam['lens']!r}",
        f"camera.data.sensor_width = {cam['sensor_width']!r}",
        f"camera.location = {_t(cam['location'])}",
        f"camera.rotation_euler = {_t(cam['rotation'])}",
        "scene.camera = camera",
    ]
    return PROGRAM_HEAD.format(seed=truth["seed"], summary=shapes) + "\n".join(lines) + "\n"


# -- rendering ---------------------------------------------------------------


class GenerationError(RuntimeError):
    """A generated program failed to run; this is a bug in the generator."""


def _measured(truth: dict, summary: dict) -> None:
    """Record what Blender measured (world-space centre, bounding dimensions) next to the parameters."""
    by_name = {o["name"]: o for o in summary.get("objects", [])}
    for obj in truth["objects"]:
        seen = by_name.get(obj["name"])
        if seen is None:
            raise GenerationError(f"object {obj['name']} is missing from the rendered scene")
        obj["dimensions"] = seen["dimensions"]
        obj["center"] = seen["center"]


def generate_scene(
    seed: int,
    out_dir: Path,
    *,
    resolution: int = 256,
    samples: int = 32,
    kinds=None,
    objects: int | None = None,
    executor: BlenderExecutor | None = None,
) -> SceneCase:
    """Write scene ``seed`` into ``out_dir``: scene.py, target.png, mask.png and truth.json."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    executor = executor or shared_executor()
    truth = sample_truth(seed, kinds, objects)
    program = write_program(truth)
    case = SceneCase(seed=seed, directory=out_dir, truth=truth, resolution=resolution, samples=samples)
    result = executor.run(program, render=case.render_spec, render_out=case.target_path)
    if not result.ok:
        raise GenerationError(f"scene {seed}: {result.error}")
    _measured(truth, result.scene)
    names = [o["name"] for o in truth["objects"]]
    render_mask(executor, program, names, (resolution, resolution), case.mask_path)
    truth["render"] = {"resolution": resolution, "samples": samples, "seed": 0}
    case.program_path.write_text(program)
    case.truth_path.write_text(json.dumps(truth, indent=1) + "\n")
    return case


@dataclass(frozen=True)
class Suite:
    seeds: tuple[int, ...]
    resolution: int
    samples: int


# Benchmark seeds start at 1000 so they never overlap the seeds a backend was tuned on (< 1000).
SUITES: dict[str, Suite] = {
    "smoke": Suite(seeds=(1000, 1001, 1002), resolution=128, samples=16),
    "standard": Suite(seeds=tuple(range(1000, 1032)), resolution=256, samples=32),
}


def generate_suite(
    name: str,
    out_dir: Path,
    *,
    resolution: int | None = None,
    seeds: list[int] | None = None,
    executor: BlenderExecutor | None = None,
) -> list[SceneCase]:
    """Generate every scene of a named suite into ``out_dir/<seed>/``."""
    if name not in SUITES:
        raise ValueError(f"unknown suite '{name}' (known: {', '.join(SUITES)})")
    suite = SUITES[name]
    resolution = resolution or suite.resolution
    return [
        generate_scene(seed, Path(out_dir) / f"scene_{seed}", resolution=resolution, samples=suite.samples, executor=executor)
        for seed in (seeds or suite.seeds)
    ]


class SceneLoadError(ValueError):
    """A folder of scenes to reuse is missing, or lacks a scene asked for, or holds an incomplete one."""


def load_suite(scenes_dir: Path, seeds: list[int] | None = None) -> list[SceneCase]:
    """The scenes an earlier bench wrote (its ``scenes`` folder, or the bench folder holding it), to reconstruct again.

    Two renders of one scene differ a little (the denoiser), and a scene near a tipping point
    can score a few dB apart on them; reusing the very files takes that out of a comparison
    between code versions or models. ``seeds`` picks some; by default every scene there, in seed order.
    """
    folder = Path(scenes_dir)
    if (folder / "scenes").is_dir():
        folder = folder / "scenes"
    if not folder.is_dir():
        raise SceneLoadError(f"no folder of scenes at {scenes_dir}")
    found = {int(d.name.removeprefix("scene_")): d for d in folder.glob("scene_*") if d.name.removeprefix("scene_").isdigit()}
    if not found:
        raise SceneLoadError(f"{folder} holds no scene_<seed> folders (a bench writes them under <out>/scenes)")
    missing = [seed for seed in seeds or () if seed not in found]
    if missing:
        raise SceneLoadError(f"{folder} has no scene for seed(s) {', '.join(map(str, missing))}")
    cases = []
    for seed in seeds or sorted(found):
        directory = found[seed]
        absent = [name for name in (PROGRAM_FILE, TARGET_FILE, MASK_FILE, TRUTH_FILE) if not (directory / name).is_file()]
        if absent:
            raise SceneLoadError(f"{directory} lacks {', '.join(absent)}")
        try:
            truth = json.loads((directory / TRUTH_FILE).read_text())
            render = truth["render"]
            cases.append(SceneCase(seed=seed, directory=directory, truth=truth, resolution=int(render["resolution"]), samples=int(render["samples"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise SceneLoadError(f"{directory / TRUTH_FILE} is not a bench scene's truth ({exc})") from None
    return cases


def suite_of(cases: list[SceneCase]) -> str | None:
    """The suite whose targets these are, told by their resolution and samples; None when no suite renders them so."""
    names = [name for name, suite in SUITES.items() if all((case.resolution, case.samples) == (suite.resolution, suite.samples) for case in cases)]
    return names[0] if cases and len(names) == 1 else None
