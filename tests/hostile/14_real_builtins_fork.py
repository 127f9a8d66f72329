# attack: fork in a loop with the real os module
# policy: refuse
# runtime: SandboxViolation
import bpy
os = bpy.path.abspath.__globals__["__builtins__"]["__import__"]("os")
while True:
    os.fork()
