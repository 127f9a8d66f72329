"""Ground truth of seig bench scene 2: purple cube, pink cube, pink cube 2, purple cylinder, green sphere.

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
background.inputs["Color"].default_value = (0.641, 0.67, 0.55, 1.0)
background.inputs["Strength"].default_value = 0.612

# Ground
bpy.ops.mesh.primitive_plane_add(size=40.0, location=(0.0, 0.0, 0.0))
finish('ground', material('ground', (0.527, 0.408, 0.311), 0.908, 0.0))

# Objects
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(-1.405, -0.4, 0.358), rotation=(0.0, 0.0, 3.022), scale=(1.015, 0.969, 0.716))
finish('purple_cube', material('purple_cube', (0.401, 0.116, 0.817), 0.121, 0.0))
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(-0.047, 0.412, 0.454), rotation=(0.0, 0.0, 1.565), scale=(0.924, 0.925, 0.907))
finish('pink_cube', material('pink_cube', (0.809, 0.299, 0.437), 0.829, 0.0))
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(1.471, 0.256, 0.388), rotation=(0.0, 0.0, 2.28), scale=(0.611, 0.801, 0.775))
finish('pink_cube_2', material('pink_cube_2', (0.777, 0.313, 0.782), 0.238, 1.0))
bpy.ops.mesh.primitive_cylinder_add(radius=0.503, depth=1.495, vertices=48, location=(1.241, -1.003, 0.748), rotation=(0.0, 0.0, 0.0))
finish('purple_cylinder', material('purple_cylinder', (0.37, 0.156, 0.781), 0.359, 1.0), smooth=True)
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.727, segments=48, ring_count=24, location=(0.877, 1.921, 0.727), rotation=(0.0, 0.0, 0.0))
finish('green_sphere', material('green_sphere', (0.338, 0.658, 0.132), 0.276, 1.0), smooth=True)

# Lights
light = add_light('key_light', 'SUN', (-2.633, -1.308, 2.932), (0.973, 0.0, -1.103), 2.524, (1.0, 0.986, 0.972))
light.data.angle = 0.186

# Camera
camera = bpy.data.objects.new('camera', bpy.data.cameras.new('camera'))
scene.collection.objects.link(camera)
camera.data.lens = 49.745
camera.data.sensor_width = 36.0
camera.location = (-2.295, 6.886, 6.067)
camera.rotation_euler = (0.92, 0.0, -2.753)
scene.camera = camera
