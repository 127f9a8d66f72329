# attack: load a secret file as an image
# policy: refuse
# runtime: error
import bpy
image = bpy.data.images.load("@CANARY@")
raise RuntimeError(str(list(image.pixels[:16])))
