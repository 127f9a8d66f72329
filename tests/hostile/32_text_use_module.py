# attack: register a text block to run when a file is loaded
# policy: refuse
# runtime: text blocks
import bpy
text = bpy.data.texts.new("autorun.py")
text.use_module = True
text.write("print(1)")
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
