# attack: open a TCP connection to the host
# policy: refuse
# runtime: ImportError
import socket
socket.create_connection(("127.0.0.1", int("@PORT@")))
