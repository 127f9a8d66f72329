# attack: a geometry-nodes Import OBJ node pointed at a secret file
# policy: refuse
# runtime: not allowed
import bpy
bpy.ops.mesh.primitive_cube_add()
group = bpy.data.node_groups.new("g", "GeometryNodeTree")
node = group.nodes.new("GeometryNodeImportOBJ")
node.inputs[0].default_value = "@CANARY@"
bpy.ops.object.camera_add(location=(0, -6, 2), rotation=(1.3, 0, 0))
bpy.context.scene.camera = bpy.context.object
