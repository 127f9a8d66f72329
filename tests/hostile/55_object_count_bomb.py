# attack: more objects than the limit
# policy: allow
# runtime: objects; the limit
import bpy
for i in range(2500):
    bpy.context.scene.collection.objects.link(bpy.data.objects.new(f"e{i}", None))
