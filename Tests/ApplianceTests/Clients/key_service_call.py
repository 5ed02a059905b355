"""Calls one key-service operation over its Unix socket and prints the reply as one JSON line.

Usage: key_service_call.py SOCKET OPERATION

Written from the wire contract (u32 big-endian length, then a JSON object; bytes as base64),
independently of the Swift client, and run under another uid (setpriv) to show what the
key-service's peer policy grants that uid. A connection the filesystem refuses prints
{"connect_error": "<errno name>"}.
"""
import base64
import errno
import json
import os
import socket
import struct
import sys

path, operation = sys.argv[1], sys.argv[2]
request = {"id": 1, "type": operation}
if operation == "attest":
    request["nonce"] = base64.b64encode(os.urandom(32)).decode()
elif operation == "injectSecrets":
    request["envelope"] = base64.b64encode(b'{"sealed":"","counter":1,"tee_id":"0x00","signature":""}').decode()

connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    connection.connect(path)
except OSError as error:
    print(json.dumps({"connect_error": errno.errorcode.get(error.errno, str(error.errno))}))
    sys.exit(0)
body = json.dumps(request).encode()
connection.sendall(struct.pack(">I", len(body)) + body)


def read_exact(count):
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            sys.exit("key-service closed the connection")
        data += chunk
    return data


reply = json.loads(read_exact(struct.unpack(">I", read_exact(4))[0]))
print(json.dumps({"type": reply.get("type"), "code": reply.get("code"), "message": reply.get("message")}))
