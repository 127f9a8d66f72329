# attack: load a secret file as a text block and raise it
# policy: refuse
# runtime: error
import bpy
text = bpy.data.texts.load("@CANARY@")
raise RuntimeError(text.as_string())
