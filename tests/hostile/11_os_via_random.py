# attack: reach os through the random module
# policy: refuse
# runtime: SandboxViolation
import random
random._os.system("touch @OUTSIDE@/pwned")
