# attack: climb from a generator frame to module globals
# policy: refuse
# runtime: SandboxViolation
def gen():
    yield 1
it = gen()
frame = it.gi_frame.f_back
raise RuntimeError(str(frame.f_globals))
