# attack: walk object.__subclasses__() for Popen
# policy: refuse
# runtime: error
for cls in ().__class__.__base__.__subclasses__():
    if cls.__name__ == "Popen":
        cls(["touch", "@OUTSIDE@/pwned"])
raise RuntimeError("no Popen")
