# attack: load a file through a ../ path
# policy: refuse
# runtime: error
import bpy
bpy.data.images.load("../../../../../../etc/shadow")
