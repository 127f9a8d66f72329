# attack: an infinite loop
# policy: allow
# runtime: Timeout
while True:
    pass
