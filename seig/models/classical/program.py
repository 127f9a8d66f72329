"""Writing a scene estimate as a Blender program an artist can read and edit.

The program follows the scene-program contract: it builds everything from an
empty scene and never renders or saves. Helpers sit at the top; below them one
clearly named block per thing in the scene, with plain numbers to edit.
"""

from __future__ import annotations

from seig.models.classical.scene import CAMERA_Y, SENSOR_MM, SNOWMAN_BALLS, SNOWMAN_HAT, TABLE_INSET, TABLE_LEG, TABLE_TOP, Light, Scene, SceneObject

HEADER = '''import math

import bmesh
import bpy
from mathutils import Matrix, Vector

scene = bpy.context.scene
SNOWMAN_BALLS = {balls}  # (radius, centre height) in base radii
SNOWMAN_HAT = {hat}  # radius, height and centre height in base radii
TABLE_TOP, TABLE_LEG, TABLE_INSET = {table}  # fractions of the table's height / half extents


def make_material(name, color, roughness=0.5, metallic=0.0):
    """A Principled BSDF material; colour is linear RGB in 0..1."""
    material = bpy.data.materials.new(name)
    bsdf = material.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Metallic"].default_value = metallic
    return material


def torus(bm, major_radius, minor_radius, major_segments=48, minor_segments=16):
    """A ring of quads round the Z axis (bmesh has no torus of its own)."""
    rings = []
    for i in range(major_segments):
        a = 2 * math.pi * i / major_segments
        ring = []
        for j in range(minor_segments):
            b = 2 * math.pi * j / minor_segments
            reach = major_radius + minor_radius * math.cos(b)
            ring.append(bm.verts.new((reach * math.cos(a), reach * math.sin(a), minor_radius * math.sin(b))))
        rings.append(ring)
    for i in range(major_segments):
        here, there = rings[i], rings[(i + 1) % major_segments]
        for j in range(minor_segments):
            bm.faces.new((here[j], there[j], there[(j + 1) % minor_segments], here[(j + 1) % minor_segments]))
    bmesh.ops.recalc_face_normals(bm, faces=bm.faces)


def mesh_from(bm, name):
    """A new mesh named ``name`` holding what ``bm`` built; ``bm`` is freed."""
    mesh = bpy.data.meshes.new(name)
    bm.to_mesh(mesh)
    bm.free()
    return mesh


UNIT_MESHES = {}  # one unit mesh per primitive, copied and scaled for every object made of it: Blender takes 13 ms to build a UV sphere


def unit_mesh(shape, segments):
    """The primitive at unit size (radius 1, height 2), curved surfaces smooth-shaded, caps and box faces flat."""
    if (shape, segments) not in UNIT_MESHES:
        bm = bmesh.new()
        if shape == "sphere":
            bmesh.ops.create_uvsphere(bm, u_segments=segments, v_segments=segments // 2, radius=1.0)
        elif shape in ("cylinder", "cone"):
            bmesh.ops.create_cone(bm, cap_ends=True, segments=segments, radius1=1.0, radius2=1.0 if shape == "cylinder" else 0.0, depth=2.0)
        else:
            bmesh.ops.create_cube(bm, size=2.0)
        mesh = mesh_from(bm, f"unit_{shape}")
        corners = [0] * len(mesh.polygons)
        mesh.polygons.foreach_get("loop_total", corners)
        mesh.polygons.foreach_set("use_smooth", [shape == "sphere" or (shape != "cube" and n <= 4) for n in corners])
        UNIT_MESHES[shape, segments] = mesh
    return UNIT_MESHES[shape, segments]


def mesh_object(name, shape, size, material, location=(0.0, 0.0, 0.0), parent=None, segments=48):
    """An object of one primitive ``shape`` with half extents ``size`` (a sphere's radius is the first; a drum's or cone's, the first and third)."""
    sx, sy, sz = size
    if shape == "torus":
        bm = bmesh.new()
        torus(bm, sx - sz, sz)
        mesh = mesh_from(bm, name)
        mesh.shade_smooth()
    else:
        scale = {"sphere": (sx, sx, sx), "cylinder": (sx, sx, sz), "cone": (sx, sx, sz)}.get(shape, (sx, sy, sz))
        mesh = unit_mesh(shape, segments).copy()
        mesh.name = name
        mesh.transform(Matrix.Diagonal((*scale, 1.0)))
    mesh.materials.append(material)
    obj = bpy.data.objects.new(name, mesh)
    scene.collection.objects.link(obj)
    obj.location = location
    obj.parent = parent
    return obj


def add_shape(name, shape, location, size, rotation_z_deg, material, standing=False):
    """A primitive; ``size`` holds half extents (x, y, z). Torus: (outer radius, -, tube radius)."""
    obj = mesh_object(name, shape, size, material, location)
    obj.rotation_euler = (math.radians(90.0) if standing else 0.0, 0.0, math.radians(rotation_z_deg))
    return obj


def group(name, location, rotation_z_deg):
    """An empty that holds a composite's parts: move, turn or scale it to edit them together."""
    empty = bpy.data.objects.new(name, None)
    scene.collection.objects.link(empty)
    empty.location = location
    empty.rotation_euler = (0.0, 0.0, math.radians(rotation_z_deg))
    return empty


def add_snowman(name, location, radius, rotation_z_deg, material, hat=None):
    """Three stacked snowballs, and a top hat of material ``hat`` if given, under one empty."""
    snowman = group(name, location, rotation_z_deg)
    for part, (size, height) in enumerate(SNOWMAN_BALLS):
        ball = size * radius
        mesh_object(f"{name}_ball_{part + 1}", "sphere", (ball, ball, ball), material, (0.0, 0.0, height * radius), snowman)
    if hat is not None:
        size, height, centre = SNOWMAN_HAT
        mesh_object(f"{name}_hat", "cylinder", (size * radius, size * radius, height * radius / 2), hat, (0.0, 0.0, centre * radius), snowman, segments=32)
    return snowman


def add_table(name, location, size, rotation_z_deg, material):
    """A top slab on four legs under one empty; ``size`` is (half width, half depth, half height)."""
    sx, sy, sz = size
    height = 2 * sz
    top, leg = TABLE_TOP * height, TABLE_LEG * height
    table = group(name, location, rotation_z_deg)
    mesh_object(f"{name}_top", "cube", (sx, sy, top / 2), material, (0.0, 0.0, height - top / 2), table)
    inset = 1 - TABLE_INSET
    for part, (x, y) in enumerate(((-1, -1), (-1, 1), (1, -1), (1, 1)), start=1):
        mesh_object(f"{name}_leg_{part}", "cube", (leg, leg, (height - top) / 2), material, (x * sx * inset, y * sy * inset, (height - top) / 2), table)
    return table


def direction(azimuth_deg, elevation_deg):
    """Unit vector towards a light at this azimuth (from +X, counter-clockwise) and elevation."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return Vector((math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)))
'''


def _vec(values) -> str:
    return "(" + ", ".join(f"{float(v):.4f}" for v in values) + ")"


def object_block(obj: SceneObject) -> str:
    material = f'make_material("{obj.name}", {_vec(obj.color)}, roughness={obj.roughness:.3f}, metallic={obj.metallic:.3f})'
    if obj.shape == "snowman":
        hat = "" if obj.hat_color is None else f',\n            hat=make_material("{obj.name}_hat", {_vec(obj.hat_color)}, roughness=0.500)'
        return (
            f"# --- {obj.name} ---\n"
            f'add_snowman("{obj.name}", location={_vec((obj.x, obj.y, 0.0))}, radius={obj.sx:.4f}, '
            f"rotation_z_deg={obj.rotation:.2f},\n            material={material}{hat})\n"
        )
    if obj.shape == "table":
        return (
            f"# --- {obj.name} ---\n"
            f'add_table("{obj.name}", location={_vec((obj.x, obj.y, 0.0))}, size={_vec((obj.sx, obj.sy, obj.sz))}, '
            f"rotation_z_deg={obj.rotation:.2f},\n          material={material})\n"
        )
    standing = ", standing=True" if obj.shape == "torus" and obj.standing else ""
    return (
        f"# --- {obj.name} ---\n"
        f'add_shape("{obj.name}", "{obj.shape}", location={_vec((obj.x, obj.y, obj.lift))}, '
        f"size={_vec((obj.sx, obj.sy, obj.sz))}, rotation_z_deg={obj.rotation:.2f},\n"
        f'          material=make_material("{obj.name}", {_vec(obj.color)}, '
        f"roughness={obj.roughness:.3f}, metallic={obj.metallic:.3f}){standing})\n"
    )


def light_block(light: Light, centre: tuple[float, float], name: str) -> str:
    cx, cy = centre
    lines = [
        f"# --- {name}: azimuth/elevation in degrees, strength in {'W/m2' if light.kind == 'SUN' else 'W'} ---",
        f'light = bpy.data.objects.new("{name}", bpy.data.lights.new("{name}", type="{light.kind}"))',
        "scene.collection.objects.link(light)",
        f"light_direction = direction({light.azimuth:.2f}, {light.elevation:.2f})",
        'light.rotation_euler = light_direction.to_track_quat("Z", "Y").to_euler()',
        f"light.data.energy = {light.strength:.4f}",
        f"light.data.color = {_vec(light.color)}",
    ]
    if light.kind == "SUN":
        lines.append(f"light.data.angle = math.radians({light.size:.3f})")
    else:
        lines.append(f"light.location = Vector(({cx:.4f}, {cy:.4f}, 0.0)) + {light.distance:.4f} * light_direction")
        lines.append(f"light.data.{'size' if light.kind == 'AREA' else 'shadow_soft_size'} = {light.size:.4f}")
    return "\n".join(lines) + "\n"


def light_blocks(scene: Scene) -> list[str]:
    """The key light, then the fill light when the scene has one."""
    key = {"SUN": "Sun", "POINT": "Lamp", "AREA": "Softbox"}.get(scene.light.kind, "Sun")
    blocks = [light_block(scene.light, scene.centre(), key)]
    if scene.fill is not None:
        blocks.append(light_block(scene.fill, scene.centre(), "Fill"))
    return blocks


def write_program(scene: Scene, title: str = "") -> str:
    """The whole scene as one readable Blender program, in metres (``Scene.in_metres``)."""
    scene = scene.in_metres()
    cam, ground = scene.camera, scene.ground
    header = HEADER.replace("{balls}", repr(SNOWMAN_BALLS)).replace("{hat}", repr(SNOWMAN_HAT)).replace("{table}", f"{TABLE_TOP}, {TABLE_LEG}, {TABLE_INSET}")
    parts = [f"# Scene reconstructed by seig's classical backend{': ' + title if title else ''}.\n" + header]
    parts.append(
        "# --- World: background colour, which also lights the scene softly ---\n"
        'world = scene.world or bpy.data.worlds.new("World")\n'
        "scene.world = world\n"
        f'world.node_tree.nodes["Background"].inputs["Color"].default_value = (*{_vec(scene.world)}, 1.0)\n'
        'world.node_tree.nodes["Background"].inputs["Strength"].default_value = 1.0\n'
    )
    parts.append(
        "# --- Ground: a square floor ---\n"
        f"bpy.ops.mesh.primitive_plane_add(size={2 * ground.half_size:.4f}, "
        f"location=({ground.x:.4f}, {ground.y:.4f}, 0.0), rotation=(0.0, 0.0, math.radians({ground.rotation:.3f})))\n"
        "ground = bpy.context.active_object\n"
        'ground.name = "Ground"\n'
        f'ground.data.materials.append(make_material("Ground", {_vec(ground.color)}, roughness={ground.roughness:.3f}))\n'
    )
    parts.append(
        "# --- Camera: height in metres, pitch in degrees below the horizon, lens in mm ---\n"
        f"camera_height, camera_pitch, camera_lens = {cam.height:.4f}, {cam.pitch:.4f}, {cam.lens:.3f}\n"
        'camera = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))\n'
        "scene.collection.objects.link(camera)\n"
        f"camera.location = (0.0, {CAMERA_Y:.1f}, camera_height)\n"
        "camera.rotation_euler = (math.radians(90.0 - camera_pitch), 0.0, 0.0)\n"
        "camera.data.lens = camera_lens\n"
        f"camera.data.sensor_width = {SENSOR_MM:.1f}\n"
        'camera.data.sensor_fit = "AUTO"\n'
        "camera.data.clip_end = 1000.0\n"
        "scene.camera = camera\n"
    )
    parts.extend(light_blocks(scene))
    parts.extend(object_block(obj) for obj in scene.objects)
    return "\n".join(parts)
