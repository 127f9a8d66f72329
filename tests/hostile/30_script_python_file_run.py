# attack: run a Python file from disk with bpy.ops.script
# policy: refuse
# runtime: error
import bpy
bpy.ops.script.python_file_run(filepath="@EVILPY@")
