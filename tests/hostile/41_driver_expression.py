# attack: a Python driver expression that imports os
# policy: refuse
# runtime: error
import bpy
bpy.ops.mesh.primitive_cube_add()
driver = bpy.context.object.driver_add("location", 0).driver
driver.use_self = True
driver.expression = "__import__('os').system('touch @OUTSIDE@/pwned') or 0"
bpy.context.view_layer.update()
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
