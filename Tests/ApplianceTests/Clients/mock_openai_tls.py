"""A mock OpenAI-compatible upstream over HTTPS on 127.0.0.1, for the egress tests.

Usage: mock_openai_tls.py CERT_OUT RECORDS_OUT

Generates a fresh self-signed certificate (SAN IP:127.0.0.1, DNS:localhost) and writes it to
CERT_OUT (PEM), so the worker can trust exactly it with --upstream-ca-file. Serves
POST /v1/chat/completions with a Chat Completions event stream whose text is
"upstream heard: <last user message>", and appends one JSON line per request to RECORDS_OUT
(path, model, stream flag, Authorization header) so the test can see what arrived. Prints
"PORT <n>" once listening; stops on SIGTERM.

It has to be TLS: AsyncHTTPClient tunnels only https targets through a proxy with CONNECT,
and the host's egress speaks nothing but CONNECT.
"""
import datetime
import ipaddress
import json
import signal
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

cert_out, records_out = sys.argv[1], sys.argv[2]
lock = threading.Lock()


def make_certificate():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mock-openai.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def chunk(delta, finish=None):
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4.1-2025-04-14",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        with lock:
            with open(records_out, "a") as f:
                f.write(
                    json.dumps(
                        {
                            "path": self.path,
                            "model": body.get("model"),
                            "stream": body.get("stream"),
                            "authorization": self.headers.get("Authorization"),
                        }
                    )
                    + "\n"
                )
        if self.path != "/v1/chat/completions":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        last_user = next(
            (m.get("content") for m in reversed(body.get("messages", [])) if m.get("role") == "user"), ""
        )
        usage = dict(chunk({}), choices=[], usage={"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10})
        events = [
            chunk({"role": "assistant", "content": "upstream heard: "}),
            chunk({"content": str(last_user)}),
            chunk({}, finish="stop"),
            usage,
        ]
        payload = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


certificate_pem, key_pem = make_certificate()
with open(cert_out, "wb") as f:
    f.write(certificate_pem)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
with tempfile.NamedTemporaryFile() as cert_file, tempfile.NamedTemporaryFile() as key_file:
    cert_file.write(certificate_pem)
    key_file.write(key_pem)
    cert_file.flush()
    key_file.flush()
    context.load_cert_chain(cert_file.name, key_file.name)
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
server.socket = context.wrap_socket(server.socket, server_side=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
