# attack: write a .blend larger than the file-size limit into the worker's own scratch directory
# policy: refuse
# runtime: error
import bpy
home = bpy.utils._os.environ["HOME"]
bpy.ops.mesh.primitive_grid_add(x_subdivisions=700, y_subdivisions=700)
bpy.ops.wm.save_as_mainfile(filepath=home + "/big.blend", compress=False)
raise RuntimeError("saved")
