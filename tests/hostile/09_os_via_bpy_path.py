# attack: reach os through bpy.path's private module reference
# policy: refuse
# runtime: SandboxViolation
import bpy
bpy.path._os.system("touch @OUTSIDE@/pwned")
