# attack: subdivision levels far beyond what a render needs
# policy: allow
# runtime: clamped
import bpy
bpy.ops.mesh.primitive_cube_add()
mod = bpy.context.object.modifiers.new("s", "SUBSURF")
mod.levels = 6
mod.render_levels = 6
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
