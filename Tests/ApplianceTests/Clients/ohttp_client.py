"""An independent Oblivious HTTP client for the gateway's POST /v1/ohttp, written from the RFCs
and docs/wire-contracts.md alone (it shares no code with the Swift implementation):

- RFC 9458 (Oblivious HTTP): key configuration list, request encapsulation, response decryption;
- draft-ietf-ohai-chunked-ohttp-08: chunked requests and chunked responses;
- RFC 9292 (Binary HTTP): a known-length and indeterminate-length encoder and decoder, below.

HPKE is `pyhpke` (X25519 suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305); the
response AEAD and HKDF come from `cryptography`. Every decrypted answer is checked by
`tee_verify.py` against the gateway's signing key.

Run: ohttp_client.py URL CAFILE. Prints one JSON line per scenario ({"scenario", "ok", ...}) and a
final {"failed": [...]} line; exits 1 when any scenario failed.
"""
import hashlib
import hmac
import json
import os
import select
import socket
import ssl
import struct
import sys
import traceback
import urllib.parse
import http.client

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

import tee_verify

# ---------------------------------------------------------------------------------------------
# QUIC variable-length integers (RFC 9000 §16), used by Binary HTTP and chunked OHTTP.


def varint(value: int) -> bytes:
    if value < 1 << 6:
        return bytes([value])
    if value < 1 << 14:
        return struct.pack(">H", value | 0x4000)
    if value < 1 << 30:
        return struct.pack(">I", value | 0x80000000)
    if value < 1 << 62:
        return struct.pack(">Q", value | 0xC000000000000000)
    raise ValueError("varint too large")


class Reader:
    """Reads a byte string front to back; raises EOFError when a field runs past the end."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, count: int) -> bytes:
        if count > self.remaining():
            raise EOFError(f"need {count} bytes at offset {self.pos}, have {self.remaining()}")
        out = self.data[self.pos : self.pos + count]
        self.pos += count
        return out

    def varint(self) -> int:
        first = self.take(1)[0]
        length = 1 << (first >> 6)
        value = first & 0x3F
        for byte in self.take(length - 1):
            value = (value << 8) | byte
        return value

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out


# ---------------------------------------------------------------------------------------------
# Binary HTTP (RFC 9292).


def bhttp_request(method, path, headers=(), content=b"", authority="gateway", indeterminate=False) -> bytes:
    """Framing indicator 0 (known-length) or 2 (indeterminate-length)."""
    out = varint(2 if indeterminate else 0)
    for control in (method, "https", authority, path):
        out += varint(len(control)) + control.encode()
    fields = b"".join(varint(len(n)) + n.encode() + varint(len(v)) + v.encode() for n, v in headers)
    if indeterminate:
        out += fields + varint(0)
        if content:
            # Two content chunks, to exercise chunk reassembly on the gateway side.
            half = len(content) // 2 or len(content)
            for piece in (content[:half], content[half:]):
                if piece:
                    out += varint(len(piece)) + piece
        out += varint(0)  # content terminator
        out += varint(0)  # empty trailer section
    else:
        out += varint(len(fields)) + fields
        out += varint(len(content)) + content
        out += varint(0)  # empty trailer section
    return out


def _fields_known(reader: Reader):
    section = Reader(reader.take(reader.varint()))
    fields = []
    while section.remaining():
        name = section.take(section.varint()).decode()
        value = section.take(section.varint()).decode()
        fields.append((name, value))
    return fields


def _fields_indeterminate(reader: Reader):
    fields = []
    while True:
        length = reader.varint()
        if length == 0:
            return fields
        name = reader.take(length).decode()
        value = reader.take(reader.varint()).decode()
        fields.append((name, value))


def bhttp_decode_response(data: bytes):
    """Returns (status, headers dict, content bytes); informational responses are skipped."""
    reader = Reader(data)
    indicator = reader.varint()
    if indicator not in (1, 3):
        raise ValueError(f"framing indicator {indicator} is not a response")
    known = indicator == 1
    while True:
        status = reader.varint()
        if known:
            fields = _fields_known(reader) if reader.remaining() else []
        else:
            fields = _fields_indeterminate(reader)
        if status >= 200:
            break
    if known:
        content = reader.take(reader.varint()) if reader.remaining() else b""
        if reader.remaining():
            _fields_known(reader)
    else:
        content = b""
        while True:
            length = reader.varint()
            if length == 0:
                break
            content += reader.take(length)
        if reader.remaining():
            _fields_indeterminate(reader)
    if any(reader.rest()):
        raise ValueError("non-zero padding after the response")
    return status, dict(fields), content


# ---------------------------------------------------------------------------------------------
# OHTTP key configurations (RFC 9458 §3).

PUBLIC_KEY_LENGTH = {0x0020: 32, 0x647A: 1216}


def parse_key_configs(data: bytes):
    configs = []
    reader = Reader(data)
    while reader.remaining():
        config = Reader(reader.take(struct.unpack(">H", reader.take(2))[0]))
        key_id = config.take(1)[0]
        kem_id = struct.unpack(">H", config.take(2))[0]
        public_key = config.take(PUBLIC_KEY_LENGTH[kem_id]) if kem_id in PUBLIC_KEY_LENGTH else None
        algorithms = Reader(config.take(struct.unpack(">H", config.take(2))[0]))
        suites = []
        while algorithms.remaining():
            suites.append(struct.unpack(">HH", algorithms.take(4)))
        configs.append({"key_id": key_id, "kem_id": kem_id, "public_key": public_key, "suites": suites})
    return configs


# ---------------------------------------------------------------------------------------------
# Encapsulation (RFC 9458 §4.3, chunked draft §6) and response decryption (§4.4).

X25519_SUITE = (0x0020, 0x0001, 0x0003)
AEAD = {0x0001: (AESGCM, 16), 0x0002: (AESGCM, 32), 0x0003: (ChaCha20Poly1305, 32)}
NONCE_LENGTH = 12


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


class Exchange:
    """One encapsulated request and what it takes to open its response."""

    def __init__(self, config, chunks, chunked_request: bool, key_id=None):
        kem_id, kdf_id, aead_id = X25519_SUITE
        assert config["kem_id"] == kem_id and (kdf_id, aead_id) in config["suites"], config
        self.aead_id = aead_id
        suite = CipherSuite.new(KEMId(kem_id), KDFId(kdf_id), AEADId(aead_id))
        header = struct.pack(">BHHH", config["key_id"] if key_id is None else key_id, kem_id, kdf_id, aead_id)
        label = b"message/bhttp chunked request" if chunked_request else b"message/bhttp request"
        public_key = suite.kem.deserialize_public_key(config["public_key"])
        # The real key id goes into `info` even when a stale one is sent, as a client with an old
        # config would do; the gateway must refuse on the id alone.
        info = label + b"\x00" + struct.pack(">BHHH", config["key_id"], kem_id, kdf_id, aead_id)
        if key_id is not None:
            info = label + b"\x00" + header
        self.enc, context = suite.create_sender_context(public_key, info=info)
        body = header + self.enc
        if chunked_request:
            for chunk in chunks[:-1]:
                sealed = context.seal(chunk, aad=b"")
                body += varint(len(sealed)) + sealed
            body += varint(0) + context.seal(chunks[-1], aad=b"final")
        else:
            body += context.seal(b"".join(chunks), aad=b"")
        self.body = body
        secret_length = max(NONCE_LENGTH, AEAD[aead_id][1])
        self.secret = context.export(b"message/bhttp response", secret_length)
        self.chunked_secret = context.export(b"message/bhttp chunked response", secret_length)

    def _keys(self, secret: bytes, response_nonce: bytes):
        algorithm, key_length = AEAD[self.aead_id]
        prk = hkdf_extract(self.enc + response_nonce, secret)
        return algorithm(hkdf_expand(prk, b"key", key_length)), hkdf_expand(prk, b"nonce", NONCE_LENGTH)

    def open_response(self, wire: bytes) -> bytes:
        length = len(self.secret)
        aead, nonce = self._keys(self.secret, wire[:length])
        return aead.decrypt(nonce, wire[length:], b"")

    def open_chunked_response(self, wire: bytes):
        """Returns the list of chunk plaintexts; the last one is the final chunk."""
        length = len(self.chunked_secret)
        aead, nonce = self._keys(self.chunked_secret, wire[:length])
        reader = Reader(wire[length:])
        plaintexts = []
        counter = 0
        while True:
            size = reader.varint()
            chunk_nonce = bytes(a ^ b for a, b in zip(nonce, counter.to_bytes(NONCE_LENGTH, "big")))
            if size == 0:
                plaintexts.append(aead.decrypt(chunk_nonce, reader.rest(), b"final"))
                return plaintexts
            plaintexts.append(aead.decrypt(chunk_nonce, reader.take(size), b""))
            counter += 1


# ---------------------------------------------------------------------------------------------
# The scenarios.


class Gateway:
    def __init__(self, url: str, cafile: str):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port or 443
        self.context = ssl.create_default_context(cafile=cafile)
        self.context.check_hostname = False
        self.key = tee_verify.SigningKey.fetch(url, cafile)
        status, headers, body = self.request("GET", "/.well-known/ohttp-gateway")
        assert status == 200 and headers.get("content-type") == "application/ohttp-keys", (status, headers)
        self.configs = parse_key_configs(body)
        self.x25519 = next(c for c in self.configs if c["kem_id"] == 0x0020)

    def request(self, method, path, body=None, content_type=None):
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=60)
        headers = {"content-type": content_type} if content_type else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def post_oversized(self, size: int):
        """Declares a `size`-byte body and sends it only while no answer has come back: a gateway
        that refuses by Content-Length answers before reading the body, and then closes, so a
        client that insisted on writing everything first (http.client) would lose the answer to
        the reset. Returns (status, body)."""
        raw = socket.create_connection((self.host, self.port), timeout=30)
        conn = self.context.wrap_socket(raw, server_hostname=self.host)
        head = (f"POST /v1/ohttp HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: message/ohttp-req\r\n"
                f"Content-Length: {size}\r\nConnection: close\r\n\r\n")
        conn.sendall(head.encode())
        sent = 0
        try:
            while sent < size:
                readable, _, _ = select.select([conn], [], [], 0.5 if sent == 0 else 0)
                if readable or conn.pending():
                    break
                piece = min(16384, size - sent)
                conn.sendall(os.urandom(piece))
                sent += piece
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        response = b""
        try:
            while b"\r\n\r\n" not in response:
                data = conn.recv(65536)
                if not data:
                    break
                response += data
        finally:
            conn.close()
        status_line = response.split(b"\r\n", 1)[0].decode(errors="replace")
        return int(status_line.split(" ")[1]) if status_line.startswith("HTTP/1.1") else 0, response

    def post(self, body: bytes, chunked=False):
        media = "message/ohttp-chunked-req" if chunked else "message/ohttp-req"
        return self.request("POST", "/v1/ohttp", body=body, content_type=media)


CHAT = {"model": "local", "messages": [{"role": "user", "content": "Tell me something obliviously"}],
        "user": "should-be-stripped"}
MESSAGES = {"model": "local", "max_tokens": 64, "messages": [{"role": "user", "content": "Hello through OHTTP"}]}


def json_headers(body):
    return [("content-type", "application/json"), ("content-length", str(len(body)))]


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def sealed_call(gateway, chunks, chunked_request=False):
    exchange = Exchange(gateway.x25519, chunks, chunked_request)
    status, headers, body = gateway.post(exchange.body, chunked=chunked_request)
    expect(status == 200, f"outer status {status}: {body[:200]!r}")
    return exchange, headers, body


def scenario_json_nonstream(gateway):
    request = json.dumps(CHAT).encode()
    exchange, headers, body = sealed_call(gateway, [request])
    expect(headers["content-type"] == "message/ohttp-res", headers)
    answer = exchange.open_response(body)
    tee_verify.verify_exchange("chat", request, answer, stream=False, key=gateway.key)
    return {"answer_bytes": len(answer)}


def scenario_json_stream(gateway):
    request = json.dumps(dict(CHAT, stream=True)).encode()
    exchange, headers, body = sealed_call(gateway, [request])
    expect(headers["content-type"] == "message/ohttp-chunked-res", headers)
    chunks = exchange.open_chunked_response(body)
    events = [c for c in chunks if c]
    expect(len(events) >= 3, f"only {len(events)} non-empty sealed chunks")
    for chunk in events:
        expect(chunk.endswith(b"\n\n") and chunk.count(b"\n\n") == 1, f"chunk is not exactly one SSE event: {chunk[:80]!r}")
    tee_verify.verify_exchange("chat", request, b"".join(chunks), stream=True, key=gateway.key)
    return {"sealed_chunks": len(chunks)}


def scenario_bhttp_chat(gateway):
    content = json.dumps(CHAT).encode()
    request = bhttp_request("POST", "/v1/chat/completions", json_headers(content), content)
    exchange, _, body = sealed_call(gateway, [request])
    status, headers, answer = bhttp_decode_response(exchange.open_response(body))
    expect(status == 200 and headers.get("content-type") == "application/json", (status, headers, answer[:200]))
    tee_verify.verify_exchange("chat", content, answer, stream=False, key=gateway.key)
    return {}


def scenario_bhttp_indeterminate_messages(gateway):
    content = json.dumps(MESSAGES).encode()
    request = bhttp_request("POST", "/v1/messages", [("content-type", "application/json")], content, indeterminate=True)
    exchange, _, body = sealed_call(gateway, [request])
    status, _, answer = bhttp_decode_response(exchange.open_response(body))
    expect(status == 200, (status, answer[:200]))
    tee_verify.verify_exchange("messages", content, answer, stream=False, key=gateway.key)
    return {}


def scenario_bhttp_stream(gateway):
    content = json.dumps(dict(MESSAGES, stream=True)).encode()
    request = bhttp_request("POST", "/v1/messages", json_headers(content), content)
    exchange, headers, body = sealed_call(gateway, [request])
    expect(headers["content-type"] == "message/ohttp-chunked-res", headers)
    chunks = exchange.open_chunked_response(body)
    expect(len(chunks) >= 4, f"only {len(chunks)} sealed chunks")
    status, fields, sse = bhttp_decode_response(b"".join(chunks))
    expect(status == 200 and fields.get("content-type") == "text/event-stream", (status, fields))
    tee_verify.verify_exchange("messages", content, sse, stream=True, key=gateway.key)
    return {"sealed_chunks": len(chunks)}


def scenario_chunked_request(gateway):
    content = json.dumps(dict(CHAT, stream=True)).encode()
    request = bhttp_request("POST", "/v1/chat/completions", json_headers(content), content, indeterminate=True)
    thirds = [request[: len(request) // 3], request[len(request) // 3 : 2 * len(request) // 3], request[2 * len(request) // 3 :]]
    exchange, headers, body = sealed_call(gateway, thirds, chunked_request=True)
    expect(headers["content-type"] == "message/ohttp-chunked-res", headers)
    status, _, sse = bhttp_decode_response(b"".join(exchange.open_chunked_response(body)))
    expect(status == 200, status)
    tee_verify.verify_exchange("chat", content, sse, stream=True, key=gateway.key)
    return {}


def scenario_chunked_request_nonstream(gateway):
    content = json.dumps(CHAT).encode()
    exchange, headers, body = sealed_call(gateway, [content[:10], content[10:]], chunked_request=True)
    expect(headers["content-type"] == "message/ohttp-chunked-res", headers)
    chunks = exchange.open_chunked_response(body)
    tee_verify.verify_exchange("chat", content, b"".join(chunks), stream=False, key=gateway.key)
    return {}


def scenario_models(gateway):
    exchange, _, body = sealed_call(gateway, [bhttp_request("GET", "/v1/models")])
    status, _, answer = bhttp_decode_response(exchange.open_response(body))
    expect(status == 200 and json.loads(answer)["object"] == "list", (status, answer[:200]))
    return {}


def scenario_inner_errors_are_sealed(gateway):
    results = {}
    for name, request, expected in [
        ("unknown_model", bhttp_request("POST", "/v1/chat/completions", [], json.dumps(dict(CHAT, model="nope")).encode()), 404),
        ("unknown_path", bhttp_request("POST", "/v1/secret", [], b"{}"), 404),
        ("wrong_method", bhttp_request("GET", "/v1/chat/completions"), 405),
        ("broken_json", bhttp_request("POST", "/v1/chat/completions", [], b"{broken"), 400),
    ]:
        exchange, _, body = sealed_call(gateway, [request])
        status, _, answer = bhttp_decode_response(exchange.open_response(body))
        expect(status == expected, f"{name}: inner status {status}, expected {expected}: {answer[:200]!r}")
        expect("error" in json.loads(answer), f"{name}: {answer[:200]!r}")
        results[name] = status
    # Raw JSON has no status line: the sealed answer is the error body itself.
    exchange, _, body = sealed_call(gateway, [json.dumps(dict(CHAT, model="nope")).encode()])
    expect("error" in json.loads(exchange.open_response(body)), "raw JSON inner error is not an error body")
    return results


def scenario_refusals(gateway):
    """Tampered, truncated and empty bodies get one identical answer; stale key ids a 422 problem."""
    request = json.dumps(CHAT).encode()
    tampered = bytearray(Exchange(gateway.x25519, [request], False).body)
    tampered[-1] ^= 0x01
    truncated = Exchange(gateway.x25519, [request], False).body[:30]
    wrong_info = Exchange(gateway.x25519, [request], False).body
    wrong_info = wrong_info[:7] + bytes([wrong_info[7] ^ 0x01]) + wrong_info[8:]  # a different enc
    chunked_as_single = Exchange(gateway.x25519, [request[:5], request[5:]], True).body
    answers = [gateway.post(bytes(tampered)), gateway.post(truncated), gateway.post(b""), gateway.post(wrong_info),
               gateway.post(chunked_as_single)]
    for status, headers, body in answers:
        expect(status == 400, f"undecryptable body answered {status}: {body!r}")
    expect(len({body for _, _, body in answers}) == 1, f"refusal bodies differ: {[b for _, _, b in answers]}")

    used = {c["key_id"] for c in gateway.configs}
    stale = next(i for i in range(256) if i not in used)
    status, headers, body = gateway.post(Exchange(gateway.x25519, [request], False, key_id=stale).body)
    problem = json.loads(body)
    expect(status == 422 and headers["content-type"] == "application/problem+json", (status, headers))
    expect(problem["type"].endswith("#ohttp-key") and problem["status"] == 422, problem)

    status, _, body = gateway.request("POST", "/v1/ohttp", body=Exchange(gateway.x25519, [request], False).body,
                                      content_type="application/json")
    expect(status == 415, f"wrong content type answered {status}")
    status, answer = gateway.post_oversized(512 * 1024 + 1)
    expect(status == 413, f"oversized body answered {status}: {answer[:300]!r}")
    return {"refusal": answers[0][2].decode()}


SCENARIOS = [
    scenario_json_nonstream, scenario_json_stream, scenario_bhttp_chat, scenario_bhttp_indeterminate_messages,
    scenario_bhttp_stream, scenario_chunked_request, scenario_chunked_request_nonstream, scenario_models,
    scenario_inner_errors_are_sealed, scenario_refusals,
]


def main(argv):
    url, cafile = argv[1], argv[2]
    gateway = Gateway(url, cafile)
    failed = []
    for scenario in SCENARIOS:
        name = scenario.__name__.removeprefix("scenario_")
        try:
            detail = scenario(gateway)
            print(json.dumps({"scenario": name, "ok": True, **detail}), flush=True)
        except Exception as error:  # each scenario reports independently
            failed.append(name)
            print(json.dumps({"scenario": name, "ok": False, "error": f"{type(error).__name__}: {error}",
                              "trace": traceback.format_exc()}), flush=True)
    print(json.dumps({"failed": failed}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
