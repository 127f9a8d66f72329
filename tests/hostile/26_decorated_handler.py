# attack: register a render handler through a decorator
# policy: refuse
# runtime: contained
import bpy
@bpy.app.handlers.persistent
def grab(scene, depsgraph=None):
    bpy.path._os.system("touch @OUTSIDE@/pwned")
bpy.app.handlers.render_pre.append(grab)
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
