# attack: unbounded recursion
# policy: allow
# runtime: RecursionError
def down(n):
    return down(n + 1)
down(0)
