# attack: ask for a gigapixel render with a million samples
# policy: allow
# runtime: ok
import bpy
scene = bpy.context.scene
scene.render.resolution_x = 100000
scene.render.resolution_y = 100000
scene.render.resolution_percentage = 1000
scene.cycles.samples = 1000000
scene.cycles.max_bounces = 100000
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
