# attack: save a .blend outside the run directory through an alias of bpy
# policy: refuse
# runtime: error
import bpy
b = bpy
b.ops.wm.save_as_mainfile(filepath="@OUTSIDE@/x.blend")
