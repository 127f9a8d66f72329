# attack: reach bpy.ops.wm with getattr
# policy: refuse
# runtime: error
import bpy
wm = getattr(bpy.ops, "wm")
wm.save_mainfile(filepath="@OUTSIDE@/y.blend")
