# attack: read the parent's environment through /proc
# policy: refuse
# runtime: error
import bpy
text = bpy.data.texts.load("/proc/@PPID@/environ")
raise RuntimeError(text.as_string())
