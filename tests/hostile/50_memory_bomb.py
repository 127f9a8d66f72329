# attack: allocate memory until the machine runs out
# policy: allow
# runtime: MemoryError
hoard = []
while True:
    hoard.append(bytearray(50_000_000))
