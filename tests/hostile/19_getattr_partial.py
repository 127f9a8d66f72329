# attack: getattr smuggled through functools.partial
# policy: refuse
# runtime: SandboxViolation
import bpy, functools
get = functools.partial(getattr, bpy.path)
get("_" + "os").system("touch @OUTSIDE@/pwned")
