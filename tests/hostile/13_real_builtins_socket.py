# attack: import socket with the real __import__ and connect to the host
# policy: refuse
# runtime: SandboxViolation
import bpy
imp = bpy.path.abspath.__globals__["__builtins__"]["__import__"]
imp("socket").create_connection(("127.0.0.1", int("@PORT@")), timeout=2)
