# attack: write a .blend library outside the run directory
# policy: refuse
# runtime: error
import bpy
bpy.ops.mesh.primitive_cube_add()
bpy.data.libraries.write("@OUTSIDE@/lib.blend", set(bpy.data.objects))
