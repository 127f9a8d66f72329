# attack: read a secret file with open()
# policy: refuse
# runtime: NameError
data = open("@CANARY@").read()
raise RuntimeError(data)
