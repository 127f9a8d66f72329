# attack: call libc system() through ctypes
# policy: refuse
# runtime: ImportError
import ctypes
ctypes.CDLL(None).system(b"touch @OUTSIDE@/pwned")
