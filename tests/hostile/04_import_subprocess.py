# attack: start a process through subprocess
# policy: refuse
# runtime: ImportError
import subprocess
subprocess.run(["touch", "@OUTSIDE@/pwned"])
