# attack: a compositor File Output node writing outside the run directory
# policy: refuse
# runtime: not allowed
import bpy
tree = bpy.data.node_groups.new("c", "CompositorNodeTree")
bpy.context.scene.compositing_node_group = tree
node = tree.nodes.new("CompositorNodeOutputFile")
node.directory = "@OUTSIDE@"
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
