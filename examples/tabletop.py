"""Ground truth of seig bench scene 4: teal cube, blue sphere, teal table, teal cylinder.

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

# World: a flat background colour that also lights the scene
background = scene.world.node_tree.nodes["Background"]
background.inputs["Color"].default_value = (0.425, 0.535, 0.493, 1.0)
background.inputs["Strength"].default_value = 0.399

# Ground
bpy.ops.mesh.primitive_plane_add(size=40.0, location=(0.0, 0.0, 0.0))
finish('ground', material('ground', (0.314, 0.519, 0.301), 0.625, 0.0))

# Objects
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0.316, -1.669, 0.257), rotation=(0.0, 0.0, 2.855), scale=(0.835, 0.563, 0.514))
finish('teal_cube', material('teal_cube', (0.447, 0.877, 0.809), 0.903, 0.0))
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.547, segments=48, ring_count=24, location=(-0.133, 1.809, 0.547), rotation=(0.0, 0.0, 0.0))
finish('blue_sphere', material('blue_sphere', (0.455, 0.339, 0.847), 0.3, 1.0), smooth=True)
# teal_table: a top on four legs, built square to the axes, then turned 3.134 rad
table_mat = material('teal_table', (0.285, 0.641, 0.537), 0.066, 0.0)
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(1.476, 0.24, 0.578), scale=(1.403, 1.096, 0.08))
bpy.ops.object.transform_apply(location=False, rotation=False, scale=True)
parts = [finish('table_top', table_mat)]
bpy.ops.mesh.primitive_cylinder_add(radius=0.05, depth=0.538, vertices=16, location=(2.078, 0.688, 0.269))
parts.append(finish('table_leg', table_mat, smooth=True))
bpy.ops.mesh.primitive_cylinder_add(radius=0.05, depth=0.538, vertices=16, location=(2.078, -0.208, 0.269))
parts.append(finish('table_leg', table_mat, smooth=True))
bpy.ops.mesh.primitive_cylinder_add(radius=0.05, depth=0.538, vertices=16, location=(0.874, 0.688, 0.269))
parts.append(finish('table_leg', table_mat, smooth=True))
bpy.ops.mesh.primitive_cylinder_add(radius=0.05, depth=0.538, vertices=16, location=(0.874, -0.208, 0.269))
parts.append(finish('table_leg', table_mat, smooth=True))
join('teal_table', parts).rotation_euler = (0.0, 0.0, 3.134)
bpy.ops.mesh.primitive_cylinder_add(radius=0.432, depth=0.86, vertices=48, location=(-0.728, 0.618, 0.43), rotation=(0.0, 0.0, 0.0))
finish('teal_cylinder', material('teal_cylinder', (0.159, 0.663, 0.795), 0.167, 1.0), smooth=True)

# Lights
light = add_light('key_light', 'POINT', (-1.473, 3.303, 3.321), (0.881, 0.0, -2.632), 531.207, (0.988, 1.0, 1.0))
light.data.shadow_soft_size = 0.379

# Camera
camera = bpy.data.objects.new('camera', bpy.data.cameras.new('camera'))
scene.collection.objects.link(camera)
camera.data.lens = 66.368
camera.data.sensor_width = 36.0
camera.location = (3.956, 8.665, 5.96)
camera.rotation_euler = (1.03, 0.0, 2.725)
scene.camera = camera
