# attack: climb from a traceback frame to the worker's globals
# policy: refuse
# runtime: SandboxViolation
try:
    1 / 0
except ZeroDivisionError as exc:
    tb = exc.__traceback__
    worker_globals = tb.tb_frame.f_back.f_globals
    worker_globals["os"].system("touch @OUTSIDE@/pwned")
