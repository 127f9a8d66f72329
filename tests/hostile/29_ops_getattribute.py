# attack: reach bpy.ops.wm with __getattribute__
# policy: refuse
# runtime: error
import bpy
bpy.ops.__getattribute__("wm").save_as_mainfile(filepath="@OUTSIDE@/z.blend")
