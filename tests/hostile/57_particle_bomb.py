# attack: a hair system with five million strands
# policy: allow
# runtime: clamped | died
import bpy
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
bpy.ops.mesh.primitive_plane_add()
obj = bpy.context.object
obj.modifiers.new("p", "PARTICLE_SYSTEM")
settings = obj.particle_systems[0].settings
settings.type = "HAIR"
settings.count = 5000000
