# attack: getattr with an attribute name built at run time
# policy: refuse
# runtime: SandboxViolation
import bpy
name = "_" + "os"
getattr(bpy.path, name).system("touch @OUTSIDE@/pwned")
