# attack: render straight to a file outside the run directory
# policy: refuse
# runtime: contained
import bpy
scene = bpy.context.scene
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
scene.render.resolution_x = scene.render.resolution_y = 16
scene.cycles.samples = 1
scene.render.filepath = "@OUTSIDE@/r.png"
bpy.ops.render.render(write_still=True)
