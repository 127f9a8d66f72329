# attack: reach sys.modules through bpy.utils
# policy: refuse
# runtime: SandboxViolation
import bpy
bpy.utils._sys.modules["os"].system("touch @OUTSIDE@/pwned")
