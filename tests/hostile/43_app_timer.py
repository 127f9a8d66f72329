# attack: register a timer that runs later
# policy: refuse
# runtime: contained
import bpy
bpy.app.timers.register(lambda: print("later"), first_interval=0.1)
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
