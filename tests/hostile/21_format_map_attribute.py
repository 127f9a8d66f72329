# attack: read attributes through str.format_map
# policy: refuse
# runtime: contained
import bpy
raise RuntimeError("{b.path._os.environ}".format_map({"b": bpy}))
