# attack: an OSL script node reading an external .osl file
# policy: refuse
# runtime: not allowed
import bpy
bpy.ops.mesh.primitive_cube_add()
mat = bpy.data.materials.new("m")
node = mat.node_tree.nodes.new("ShaderNodeScript")
node.mode = "EXTERNAL"
node.filepath = "@CANARY@"
bpy.context.scene.cycles.shading_system = True
bpy.context.object.data.materials.append(mat)
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
