"""Ground truth of seig bench scene 2: white snowman, white snowman 2, white snowman 3.

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
background.inputs["Color"].default_value = (0.414, 0.288, 0.362, 1.0)
background.inputs["Strength"].default_value = 0.766

# Ground
bpy.ops.mesh.primitive_plane_add(size=40.0, location=(0.0, 0.0, 0.0))
finish('ground', material('ground', (0.598, 0.471, 0.541), 0.574, 0.0))

# Objects
# white_snowman: three snowballs, a carrot nose and a hat, built facing +X, then turned 2.006 rad
snow = material('white_snowman', (0.9, 0.9, 0.92), 0.8, 0.0)
parts = []
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.404, segments=48, ring_count=24, location=(0.415, -0.543, 0.404))
parts.append(finish('snow_base', snow, smooth=True))
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.283, segments=48, ring_count=24, location=(0.415, -0.543, 1.034))
parts.append(finish('snow_middle', snow, smooth=True))
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.202, segments=48, ring_count=24, location=(0.415, -0.543, 1.422))
parts.append(finish('snow_head', snow, smooth=True))
bpy.ops.mesh.primitive_cone_add(radius1=0.036, radius2=0.0, depth=0.141, vertices=16, location=(0.657, -0.543, 1.422), rotation=(0.0, 1.5708, 0.0))
parts.append(finish('carrot_nose', material('carrot', (0.9, 0.35, 0.05), 0.6, 0.0), smooth=True))
bpy.ops.mesh.primitive_cylinder_add(radius=0.141, depth=0.141, vertices=32, location=(0.415, -0.543, 1.604))
parts.append(finish('hat', material('hat', (0.03, 0.03, 0.03), 0.5, 0.0), smooth=True))
join('white_snowman', parts).rotation_euler = (0.0, 0.0, 2.006)
# white_snowman_2: three snowballs, a carrot nose and a hat, built facing +X, then turned 2.525 rad
snow = material('white_snowman_2', (0.9, 0.9, 0.92), 0.8, 0.0)
parts = []
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.375, segments=48, ring_count=24, location=(0.061, 0.25, 0.375))
parts.append(finish('snow_base', snow, smooth=True))
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.262, segments=48, ring_count=24, location=(0.061, 0.25, 0.96))
parts.append(finish('snow_middle', snow, smooth=True))
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.188, segments=48, ring_count=24, location=(0.061, 0.25, 1.32))
parts.append(finish('snow_head', snow, smooth=True))
bpy.ops.mesh.primitive_cone_add(radius1=0.034, radius2=0.0, depth=0.132, vertices=16, location=(0.287, 0.25, 1.32), rotation=(0.0, 1.5708, 0.0))
parts.append(finish('carrot_nose', material('carrot', (0.9, 0.35, 0.05), 0.6, 0.0), smooth=True))
bpy.ops.mesh.primitive_cylinder_add(radius=0.132, depth=0.132, vertices=32, location=(0.061, 0.25, 1.489))
parts.append(finish('hat', material('hat', (0.03, 0.03, 0.03), 0.5, 0.0), smooth=True))
join('white_snowman_2', parts).rotation_euler = (0.0, 0.0, 2.525)
# white_snowman_3: three snowballs, a carrot nose and a hat, built facing +X, then turned 2.703 rad
snow = material('white_snowman_3', (0.9, 0.9, 0.92), 0.8, 0.0)
parts = []
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.471, segments=48, ring_count=24, location=(-0.57, -1.237, 0.471))
parts.append(finish('snow_base', snow, smooth=True))
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.33, segments=48, ring_count=24, location=(-0.57, -1.237, 1.206))
parts.append(finish('snow_middle', snow, smooth=True))
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.235, segments=48, ring_count=24, location=(-0.57, -1.237, 1.658))
parts.append(finish('snow_head', snow, smooth=True))
bpy.ops.mesh.primitive_cone_add(radius1=0.042, radius2=0.0, depth=0.164, vertices=16, location=(-0.288, -1.237, 1.658), rotation=(0.0, 1.5708, 0.0))
parts.append(finish('carrot_nose', material('carrot', (0.9, 0.35, 0.05), 0.6, 0.0), smooth=True))
bpy.ops.mesh.primitive_cylinder_add(radius=0.164, depth=0.164, vertices=32, location=(-0.57, -1.237, 1.869))
parts.append(finish('hat', material('hat', (0.03, 0.03, 0.03), 0.5, 0.0), smooth=True))
join('white_snowman_3', parts).rotation_euler = (0.0, 0.0, 2.703)

# Lights
light = add_light('key_light', 'SUN', (2.007, 3.404, 4.125), (0.924, 0.0, 2.661), 2.271, (0.958, 1.0, 1.0))
light.data.angle = 0.125
light = add_light('fill_light', 'AREA', (-1.737, 0.096, 5.713), (0.352, 0.0, -1.912), 286.398, (1.0, 0.996, 0.992))
light.data.size = 2.984

# Camera
camera = bpy.data.objects.new('camera', bpy.data.cameras.new('camera'))
scene.collection.objects.link(camera)
camera.data.lens = 49.381
camera.data.sensor_width = 36.0
camera.location = (-2.72, -0.545, 4.262)
camera.rotation_euler = (0.659, 0.0, -1.558)
scene.camera = camera
