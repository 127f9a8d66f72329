# attack: read private attributes through str.format fields
# policy: refuse
# runtime: contained
import bpy
raise RuntimeError("{0.path._os.environ}".format(bpy))
