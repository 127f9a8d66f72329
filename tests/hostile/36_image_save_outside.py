# attack: save an image outside the run directory
# policy: refuse
# runtime: error
import bpy
image = bpy.data.images.new("i", 8, 8)
image.filepath_raw = "@OUTSIDE@/i.png"
image.file_format = "PNG"
image.save()
