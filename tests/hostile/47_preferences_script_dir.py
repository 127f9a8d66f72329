# attack: add a script directory to the preferences
# policy: refuse
# runtime: error
import bpy
bpy.context.preferences.filepaths.script_directories.new()
raise RuntimeError("added")
