# attack: import os by a name built at run time
# policy: refuse
# runtime: ImportError
name = "o" + "s"
mod = __import__(name)
mod.system("touch @OUTSIDE@/pwned")
