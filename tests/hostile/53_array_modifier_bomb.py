# attack: nested array modifiers multiplying a mesh a billion times (evaluated inside the program)
# policy: allow
# runtime: died | copies; the limit
import bpy
bpy.ops.mesh.primitive_cube_add()
obj = bpy.context.object
for axis in range(3):
    mod = obj.modifiers.new(f"a{axis}", "ARRAY")
    mod.count = 1000
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
