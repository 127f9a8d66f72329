# attack: read gi_frame through a match class pattern
# policy: refuse
# runtime: SandboxViolation
def gen():
    yield 1
Generator = type(gen())
match gen():
    case Generator(gi_frame=frame):
        raise RuntimeError(str(frame.f_back))
