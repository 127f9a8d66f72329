# attack: a mesh with more vertices than the limit
# policy: allow
# runtime: vertices; the limit
import bpy
mesh = bpy.data.meshes.new("huge")
mesh.vertices.add(3_100_000)
bpy.context.scene.collection.objects.link(bpy.data.objects.new("huge", mesh))
