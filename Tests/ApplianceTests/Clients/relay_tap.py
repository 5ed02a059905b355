"""A wiretap on the proxy → relay hop: an HTTP server that records every request and response it
passes on to the relay (headers and bodies, hex), and on request misbehaves like a hostile network.

Usage: relay_tap.py PORT_FILE UPSTREAM_URL CAPTURE_FILE — binds a free loopback port (written to
PORT_FILE), forwards POSTs to UPSTREAM_URL. The mode is read from CAPTURE_FILE + ".mode" on every
request: `pass` (default), `tamper-response` (flips one bit in the middle of the answer body),
`stale-key-id` (rewrites the OHTTP key id, the first body byte, to one the gateway never issued).
"""
import http.server
import json
import os
import sys
import threading
import urllib.error
import urllib.request

PORT_FILE, UPSTREAM, CAPTURE = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()


def mode():
    try:
        with open(CAPTURE + ".mode") as f:
            return f.read().strip() or "pass"
    except FileNotFoundError:
        return "pass"


class Tap(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        current = mode()
        if current == "stale-key-id" and body:
            body = bytes([(body[0] + 0x55) % 256]) + body[1:]
        request = urllib.request.Request(UPSTREAM, data=body, method="POST")
        request.add_header("Content-Type", self.headers.get("content-type", ""))
        request.add_header("Accept", self.headers.get("accept", "*/*"))
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, content_type, answer = response.status, response.headers.get("content-type", ""), response.read()
        except urllib.error.HTTPError as error:
            status, content_type, answer = error.code, error.headers.get("content-type", ""), error.read()
        if current == "tamper-response" and len(answer) > 40:
            middle = len(answer) // 2
            answer = answer[:middle] + bytes([answer[middle] ^ 0x01]) + answer[middle + 1:]
        with lock, open(CAPTURE, "a") as f:
            f.write(json.dumps({
                "mode": current, "path": self.path, "request_headers": dict(self.headers.items()),
                "request_body": body.hex(), "status": status, "content_type": content_type, "response_body": answer.hex(),
            }) + "\n")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tap)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
