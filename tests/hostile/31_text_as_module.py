# attack: compile and run a text block with Text.as_module
# policy: refuse
# runtime: SandboxViolation
import bpy
text = bpy.data.texts.new("evil.py")
text.write("import os\nos.system('touch @OUTSIDE@/pwned')\n")
text.as_module()
