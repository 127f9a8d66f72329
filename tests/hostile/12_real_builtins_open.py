# attack: take the real builtins from a bpy function's globals and open a secret
# policy: refuse
# runtime: SandboxViolation
import bpy
real = bpy.path.abspath.__globals__["__builtins__"]
raise RuntimeError(real["open"]("@CANARY@").read())
