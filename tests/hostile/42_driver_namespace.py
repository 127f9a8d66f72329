# attack: plant a function in the driver namespace
# policy: refuse
# runtime: contained
import bpy
bpy.app.driver_namespace["grab"] = print
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
