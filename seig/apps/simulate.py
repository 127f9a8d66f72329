"""Rigid-body physics on a reconstructed scene: drop it, bake it, watch it as a GIF.

Flat meshes (grounds, walls, backdrops) become passive colliders; every other
mesh becomes an active body whose collision shape fits its primitive (box,
sphere, cylinder, cone, else convex hull), judged by how much of its bounding
box its volume fills. Horizontal grounds get a hidden thick box collider under
them so fast objects cannot tunnel through a zero-thickness plane. Baking and
rendering need operators the sandbox refuses, so they run in a trusted job on
the sandbox-written .blend.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from seig.apps.frames import render_frames, write_gif
from seig.apps.run import AppError, Run, run_program
from seig.context import Context
from seig.tools.trusted_job import Progress, TrustedJobError, run_trusted

FLAT_RATIO = 0.02  # thinnest side under 2% of the longest: a plane, not a body
DENSITY = {"metal": 7800.0, "other": 700.0}  # kg/m^3: steel, and wood/plastic for everything else
FRICTION = {"body": 0.6, "ground": 0.8}
RESTITUTION = 0.2
MARGIN = 0.001
COLLIDER = "seig_ground_collider"


@dataclass
class SimulationResult:
    gif: Path
    blend: Path
    summary: Path
    objects: dict  # name -> shape, mass and per-frame z/bottom


# ---- inside the trusted job (bpy) ----------------------------------------------------------


def world_bounds(obj):
    from mathutils import Vector

    corners = [obj.matrix_world @ Vector(c) for c in obj.bound_box]
    low = Vector((min(c.x for c in corners), min(c.y for c in corners), min(c.z for c in corners)))
    high = Vector((max(c.x for c in corners), max(c.y for c in corners), max(c.z for c in corners)))
    return low, high


def is_flat(obj) -> bool:
    dims = sorted(obj.dimensions)
    return dims[2] > 0 and dims[0] < FLAT_RATIO * dims[2]


def _is_horizontal(obj) -> bool:
    from mathutils import Vector

    thin = min(range(3), key=lambda i: obj.dimensions[i])
    axis = Vector([1.0 if i == thin else 0.0 for i in range(3)])
    normal = (obj.matrix_world.to_3x3() @ axis).normalized()
    return abs(normal.z) > 0.9


def _volume(bpy, obj) -> float:
    import bmesh

    bm = bmesh.new()
    bm.from_object(obj, bpy.context.evaluated_depsgraph_get())
    bm.transform(obj.matrix_world)
    volume = abs(bm.calc_volume())
    bm.free()
    return volume


def collision_shape(obj, volume: float) -> str:
    """The primitive shape that fits: by the share of the bounding box the volume fills."""
    dims = sorted(obj.dimensions)
    box = dims[0] * dims[1] * dims[2]
    fill = volume / box if box > 0 else 0.0
    x, y = obj.dimensions[0], obj.dimensions[1]
    round_xy = abs(x - y) <= 0.1 * max(x, y)
    if fill > 0.95:
        return "BOX"
    if 0.45 < fill < 0.56 and dims[0] > 0.9 * dims[2]:
        return "SPHERE"
    if 0.72 < fill < 0.82 and round_xy:
        return "CYLINDER"
    if 0.22 < fill < 0.30 and round_xy:
        return "CONE"
    return "CONVEX_HULL"


def _is_metal(obj) -> bool:
    from seig.apps.inspect import first_principled

    bsdf = first_principled(obj)
    return bsdf is not None and float(bsdf.inputs["Metallic"].default_value) >= 0.5


def _add_body(bpy, obj, kind: str, shape: str) -> None:
    with bpy.context.temp_override(object=obj, active_object=obj, selected_objects=[obj], selected_editable_objects=[obj]):
        bpy.ops.rigidbody.object_add(type=kind)
    body = obj.rigid_body
    body.collision_shape = shape
    body.use_margin = True
    body.collision_margin = MARGIN
    body.restitution = RESTITUTION
    body.friction = FRICTION["ground" if kind == "PASSIVE" else "body"]


def _add_collider(bpy, low, high, top: float) -> None:
    """A hidden passive box whose top face is the ground, thick enough that nothing tunnels through."""
    import bmesh

    depth = max(1.0, 0.5 * max(high.x - low.x, high.y - low.y))
    mesh = bpy.data.meshes.new(COLLIDER)
    bm = bmesh.new()
    bmesh.ops.create_cube(bm, size=1.0)
    bm.to_mesh(mesh)
    bm.free()
    collider = bpy.data.objects.new(COLLIDER, mesh)
    bpy.context.scene.collection.objects.link(collider)
    collider.location = ((low.x + high.x) / 2, (low.y + high.y) / 2, top - depth / 2)
    collider.scale = (high.x - low.x, high.y - low.y, depth)
    collider.hide_render = True
    bpy.context.view_layer.update()
    _add_body(bpy, collider, "PASSIVE", "BOX")


def setup_physics(bpy, drop: float) -> dict:
    """Make grounds passive and bodies active; lift bodies by ``drop``. Returns what was set up."""
    scene = bpy.context.scene
    meshes = [o for o in scene.objects if o.type == "MESH" and not o.hide_render]
    flat = [o for o in meshes if is_flat(o)]
    bodies = [o for o in meshes if o not in flat]
    if not bodies:
        raise ValueError("the scene has no solid objects to simulate")
    if scene.rigidbody_world is None:
        with bpy.context.temp_override(scene=scene):
            bpy.ops.rigidbody.world_add()
    world = scene.rigidbody_world
    world.substeps_per_frame = 10
    world.solver_iterations = 20
    described = {}
    for obj in bodies:
        volume = _volume(bpy, obj)
        shape = collision_shape(obj, volume)
        obj.location.z += drop
        _add_body(bpy, obj, "ACTIVE", shape)
        obj.rigid_body.mass = max(0.01, volume * DENSITY["metal" if _is_metal(obj) else "other"])
        described[obj.name] = {"shape": shape, "mass": round(obj.rigid_body.mass, 3)}
    bpy.context.view_layer.update()
    grounds = [o for o in flat if _is_horizontal(o)]
    for obj in flat:
        if obj not in grounds:
            _add_body(bpy, obj, "PASSIVE", "MESH")
    if grounds:
        for ground in grounds:
            low, high = world_bounds(ground)
            _add_collider(bpy, low, high, high.z)
        ground_z = min(world_bounds(g)[1].z for g in grounds)
    else:  # nothing to stand on: a wide floor at the lowest point of the scene as built
        from mathutils import Vector

        bounds = [world_bounds(o) for o in bodies]
        ground_z = min(low.z for low, _ in bounds) - drop
        middle = sum(((low + high) / 2 for low, high in bounds), Vector()) / len(bounds)
        reach = Vector((10.0, 10.0, 0.0)) * (1 + max((high - low).length for low, high in bounds))
        _add_collider(bpy, middle - reach, middle + reach, ground_z)
    return {"bodies": described, "ground_z": round(ground_z, 4), "grounds": [g.name for g in grounds]}


def blender_job(bpy, job: dict, progress) -> dict:
    scene = bpy.context.scene
    frames = int(job["frames"])
    setup = setup_physics(bpy, float(job["drop"]))
    scene.frame_start, scene.frame_end = 1, frames
    cache = scene.rigidbody_world.point_cache
    cache.frame_start, cache.frame_end = 1, frames
    with bpy.context.temp_override(scene=scene, point_cache=cache):
        bpy.ops.ptcache.bake(bake=True)
    tracks = {name: {"z": [], "bottom": []} for name in setup["bodies"]}
    for frame in range(1, frames + 1):
        scene.frame_set(frame)
        for name, track in tracks.items():
            obj = bpy.data.objects[name]
            track["z"].append(round(obj.matrix_world.translation.z, 4))
            track["bottom"].append(round(world_bounds(obj)[0].z, 4))
    bpy.ops.wm.save_as_mainfile(filepath=job["blend_out"], copy=True, compress=True)
    shown = list(range(1, frames + 1, max(1, int(job.get("step", 1)))))
    render_frames(bpy, job, shown, lambda index, frame: None, progress)
    objects = {name: {**setup["bodies"][name], **tracks[name]} for name in tracks}
    return {"objects": objects, "ground_z": setup["ground_z"], "grounds": setup["grounds"], "shown": shown}


# ---- in seig ------------------------------------------------------------------------------


def simulate(
    run: Run,
    *,
    frames: int = 120,
    drop: float = 0.0,
    long_side: int = 192,
    samples: int = 8,
    step: int = 2,
    fps: float = 24.0,
    out_dir: Path | None = None,
    ctx: Context | None = None,
    on_progress: Progress | None = None,
) -> SimulationResult:
    """Bake rigid-body physics for the run's scene; write simulation.gif, .blend and .json."""
    if not 2 <= frames <= 2000:
        raise AppError(f"--frames {frames}: use between 2 and 2000 frames")
    if not math.isfinite(drop) or not 0 <= drop <= 100:
        raise AppError(f"--drop {drop}: use a height between 0 and 100")
    ctx = ctx or Context()
    out_dir = Path(out_dir or run.dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    width, height = run.size(long_side)
    with tempfile.TemporaryDirectory(prefix="seig-simulate-") as scratch:
        scene_blend = Path(scratch) / "scene.blend"
        run_program(run.program, ctx, blend_out=scene_blend)
        job = {
            "kind": "simulate",
            "blend": str(scene_blend),
            "frames": frames,
            "drop": drop,
            "step": step,
            "blend_out": str((out_dir / "simulation.blend").resolve()),
            "frames_dir": str(Path(scratch) / "frames"),
            "width": width,
            "height": height,
            "samples": samples,
        }
        timeout = ctx.job_timeout + frames * 5.0
        try:
            result = run_trusted(job, timeout=timeout, on_progress=on_progress)
        except TrustedJobError as exc:
            raise AppError(f"simulation failed: {exc}") from None
        paths = sorted(str(p) for p in (Path(scratch) / "frames").glob("frame_*.png"))
        gif = write_gif(paths, out_dir / "simulation.gif", fps / max(1, step))
    summary = out_dir / "simulation.json"
    summary.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return SimulationResult(gif=gif, blend=out_dir / "simulation.blend", summary=summary, objects=result["objects"])
