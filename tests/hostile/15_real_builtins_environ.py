# attack: read the worker's environment, looking for API keys
# policy: refuse
# runtime: contained
import bpy
os = bpy.path.abspath.__globals__["__builtins__"]["__import__"]("os")
raise RuntimeError(str(dict(os.environ)))
