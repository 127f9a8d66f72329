# attack: a geometry-nodes import node whose type name is built at run time
# policy: allow
# runtime: GeometryNodeImport
import bpy
group = bpy.data.node_groups.new("g", "GeometryNodeTree")
made = group.nodes
made.new("GeometryNode" + "Import" + "STL")
