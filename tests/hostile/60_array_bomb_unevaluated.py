# attack: nested array modifiers a billion copies deep, left for the renderer to evaluate
# policy: allow
# runtime: copies; the limit
import bpy
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
bpy.ops.mesh.primitive_cube_add()
obj = bpy.context.object
for axis in range(3):
    mod = obj.modifiers.new(f"a{axis}", "ARRAY")
    mod.count = 1000
