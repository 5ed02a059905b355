"""A machine in the middle that substitutes the gateway's signing key: an HTTPS server with its own
self-signed certificate that relays GET requests to the real gateway but answers /signing-key with
a fresh RSA key of its own (and the matching tee_id, so only the attestation can catch it).

Usage: attest_mitm.py PORT_FILE GATEWAY_URL GATEWAY_CERT_PEM
"""
import datetime
import ipaddress
import json
import os
import ssl
import sys
import tempfile
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from Crypto.Hash import keccak
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PORT_FILE, GATEWAY, GATEWAY_CERT = sys.argv[1], sys.argv[2], sys.argv[3]

signing = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
spki = signing.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
SIGNING_KEY = json.dumps({
    "public_key": signing.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
    "tee_id": "0x" + keccak.new(digest_bits=256, data=spki).hexdigest(),
}).encode()
upstream = ssl.create_default_context(cafile=GATEWAY_CERT)


class Mitm(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/signing-key":
            status, content_type, body = 200, "application/json", SIGNING_KEY
        else:
            try:
                with urllib.request.urlopen(GATEWAY + self.path, context=upstream, timeout=60) as response:
                    status, content_type, body = response.status, response.headers.get("content-type", ""), response.read()
            except urllib.error.HTTPError as error:
                status, content_type, body = error.code, error.headers.get("content-type", ""), error.read()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mitm.test")])
now = datetime.datetime.now(datetime.timezone.utc)
certificate = (
    x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
    .not_valid_after(now + datetime.timedelta(days=1))
    .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    .sign(key, hashes.SHA256())
)
directory = tempfile.mkdtemp()
with open(os.path.join(directory, "cert.pem"), "wb") as f:
    f.write(certificate.public_bytes(serialization.Encoding.PEM))
with open(os.path.join(directory, "key.pem"), "wb") as f:
    f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem"))
server = ThreadingHTTPServer(("127.0.0.1", 0), Mitm)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
