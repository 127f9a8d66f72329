# attack: import os through __import__
# policy: refuse
# runtime: ImportError
__import__("os").system("touch @OUTSIDE@/pwned")
