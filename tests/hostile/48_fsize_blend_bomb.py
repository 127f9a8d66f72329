# attack: write a .blend larger than the file-size limit into scratch
# policy: refuse
# runtime: error
import bpy
bpy.ops.mesh.primitive_grid_add(x_subdivisions=700, y_subdivisions=700)
bpy.ops.wm.save_as_mainfile(filepath=bpy.app.tempdir + "big.blend", compress=False)
raise RuntimeError("saved")
