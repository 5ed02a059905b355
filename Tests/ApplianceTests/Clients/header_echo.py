"""A stand-in gateway for the relay's header test: records each request's method, path and
headers (JSON lines to LOG_FILE) and answers 200 message/ohttp-res with the body reversed.

Usage: header_echo.py PORT_FILE LOG_FILE
"""
import http.server
import json
import os
import sys

PORT_FILE, LOG = sys.argv[1], sys.argv[2]


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        with open(LOG, "a") as f:
            f.write(json.dumps({"method": "POST", "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}) + "\n")
        answer = body[::-1]
        self.send_response(200)
        self.send_header("Content-Type", "message/ohttp-res")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
