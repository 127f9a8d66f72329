# attack: link data from a .blend outside the run directory
# policy: refuse
# runtime: error
import bpy
with bpy.data.libraries.load("@CANARY@") as (src, dst):
    dst.objects = src.objects
