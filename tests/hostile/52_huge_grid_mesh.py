# attack: a mesh with more vertices than the limit
# policy: allow
# runtime: vertices; the limit
import bpy
bpy.ops.mesh.primitive_grid_add(x_subdivisions=1800, y_subdivisions=1800)
