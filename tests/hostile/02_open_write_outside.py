# attack: write a file outside the run directory with open()
# policy: refuse
# runtime: NameError
open("@OUTSIDE@/x.txt", "w").write("x")
