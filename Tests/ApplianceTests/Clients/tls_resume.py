"""Connects to tls-front twice with Python's ssl (OpenSSL): the second connection offers the first
one's session ticket. Prints one JSON line: the TLS versions, whether the second handshake was
resumed, and both HTTP status lines.

    tls_resume.py HOST PORT CA_PEM
"""
import json
import socket
import ssl
import sys

host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
context = ssl.create_default_context(cafile=ca)
context.check_hostname = False  # the dev certificate names no host; the chain is still verified


def fetch(session=None):
    with socket.create_connection((host, port), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
            tls.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
            # TLS 1.3 tickets arrive after the handshake; the session is complete once read.
            return tls.version(), tls.session_reused, tls.session, data.split(b"\r\n", 1)[0].decode()


first = fetch()
second = fetch(first[2])
print(json.dumps({
    "versions": [first[0], second[0]],
    "first_reused": first[1],
    "second_reused": second[1],
    "statuses": [first[3], second[3]],
}))
