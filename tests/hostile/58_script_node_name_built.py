# attack: a script node whose type name is built at run time, so the policy cannot see it
# policy: allow
# runtime: ShaderNodeScript
import bpy
bpy.ops.mesh.primitive_cube_add()
mat = bpy.data.materials.new("m")
tree_nodes = mat.node_tree.nodes
tree_nodes.new("ShaderNode" + "Scr" + "ipt")
bpy.context.object.data.materials.append(mat)
