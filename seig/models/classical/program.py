"""Writing a scene estimate as a Blender program an artist can read and edit.

The program follows the scene-program contract: it builds everything from an
empty scene and never renders or saves. Helpers sit at the top; below them one
clearly named block per thing in the scene, with plain numbers to edit.
"""

from __future__ import annotations

from seig.models.classical.scene import CAMERA_Y, SENSOR_MM, TORUS_MINOR, Scene, SceneObject

GROUND_SIZE = 20000.0  # large enough that its far edge sits on the true horizon

HEADER = f'''import math

import bpy
from mathutils import Vector

scene = bpy.context.scene


def make_material(name, color, roughness=0.5, metallic=0.0):
    """A Principled BSDF material; colour is linear RGB in 0..1."""
    material = bpy.data.materials.new(name)
    bsdf = material.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Metallic"].default_value = metallic
    return material


def add_shape(name, shape, location, scale, rotation_z_deg, material):
    """A primitive resting where told; cube/cylinder/cone span -1..1 before scaling."""
    if shape == "sphere":
        bpy.ops.mesh.primitive_uv_sphere_add(segments=48, ring_count=24, radius=1.0)
    elif shape == "cylinder":
        bpy.ops.mesh.primitive_cylinder_add(vertices=48, radius=1.0, depth=2.0)
    elif shape == "cone":
        bpy.ops.mesh.primitive_cone_add(vertices=48, radius1=1.0, radius2=0.0, depth=2.0)
    elif shape == "torus":
        bpy.ops.mesh.primitive_torus_add(major_radius={1 - TORUS_MINOR}, minor_radius={TORUS_MINOR})
    else:
        bpy.ops.mesh.primitive_cube_add(size=2.0)
    obj = bpy.context.active_object
    obj.name = name
    obj.location = location
    obj.scale = scale
    obj.rotation_euler = (0.0, 0.0, math.radians(rotation_z_deg))
    for polygon in obj.data.polygons:  # smooth curved sides, keep flat caps and cube faces flat
        polygon.use_smooth = shape in ("sphere", "torus") or (shape != "cube" and len(polygon.vertices) <= 4)
    obj.data.materials.append(material)
    return obj


def direction(azimuth_deg, elevation_deg):
    """Unit vector pointing towards a light at this azimuth (from +X, counter-clockwise) and elevation."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return Vector((math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)))
'''


def _vec(values) -> str:
    return "(" + ", ".join(f"{float(v):.4f}" for v in values) + ")"


def object_block(obj: SceneObject) -> str:
    z = obj.half_height
    if obj.shape == "sphere":
        scale = (obj.size, obj.size, obj.size)
    elif obj.shape == "torus":
        scale = (obj.size, obj.size, obj.size)
    else:
        scale = (obj.size, obj.size, obj.height)
    return (
        f"# --- {obj.name} ---\n"
        f'add_shape("{obj.name}", "{obj.shape}", location={_vec((obj.x, obj.y, z))}, scale={_vec(scale)}, '
        f"rotation_z_deg={obj.rotation:.2f},\n"
        f'          material=make_material("{obj.name}", {_vec(obj.color)}, '
        f"roughness={obj.roughness:.3f}, metallic={obj.metallic:.3f}))\n"
    )


def write_program(scene: Scene, title: str = "") -> str:
    """The whole scene as one readable Blender program."""
    cam, light = scene.camera, scene.light
    parts = [f"# Scene reconstructed by seig's classical backend{': ' + title if title else ''}.\n" + HEADER]
    parts.append(
        "# --- World: background colour, which also lights the scene softly ---\n"
        "world = scene.world or bpy.data.worlds.new(\"World\")\n"
        "scene.world = world\n"
        f'world.node_tree.nodes["Background"].inputs["Color"].default_value = (*{_vec(scene.world)}, 1.0)\n'
        f'world.node_tree.nodes["Background"].inputs["Strength"].default_value = {scene.world_strength:.4f}\n'
    )
    parts.append(
        "# --- Ground ---\n"
        f"bpy.ops.mesh.primitive_plane_add(size={GROUND_SIZE:.0f})\n"
        "ground = bpy.context.active_object\n"
        'ground.name = "Ground"\n'
        f'ground.data.materials.append(make_material("Ground", {_vec(scene.ground)}, '
        f"roughness={scene.ground_roughness:.3f}))\n"
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
        "camera.data.clip_end = 50000.0\n"
        "scene.camera = camera\n"
    )
    parts.append(
        "# --- Sun: azimuth/elevation in degrees, strength in W/m2 ---\n"
        'sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", type="SUN"))\n'
        "scene.collection.objects.link(sun)\n"
        f"sun.rotation_euler = direction({light.azimuth:.2f}, {light.elevation:.2f})"
        '.to_track_quat("Z", "Y").to_euler()\n'
        f"sun.data.energy = {light.strength:.4f}\n"
        f"sun.data.color = {_vec(light.color)}\n"
        f"sun.data.angle = math.radians({light.angle:.2f})\n"
    )
    parts.extend(object_block(obj) for obj in scene.objects)
    return "\n".join(parts)
