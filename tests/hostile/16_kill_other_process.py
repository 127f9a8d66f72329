# attack: kill a process outside the sandbox
# policy: refuse
# runtime: SandboxViolation
import bpy
os = bpy.path.abspath.__globals__["__builtins__"]["__import__"]("os")
os.kill(int("@VICTIM@"), 9)
