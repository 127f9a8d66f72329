# attack: run a shell command through os.system
# policy: refuse
# runtime: ImportError
import os
os.system("touch @OUTSIDE@/pwned")
