#!/usr/bin/env python3
"""Writes the committed seed corpora in Fuzz/Corpus/<target>/.

Seeds are small valid inputs: the shared test vectors (signing requests, OHTTP vectors,
RFC 9458 Appendix A), real Nitro attestation documents, and hand-built examples of each wire
format. Run it again only to change the seeds; `scripts/fuzz` never rewrites them (it fuzzes a
copy). Usage: Fuzz/make_seeds.py [VECTORS_DIR]   (default: Tests/Vectors)
"""
import base64, hashlib, json, os, struct, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "Vectors")
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")


def seed(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


# --- CBOR (RFC 8949), definite lengths, map entries in the given order ---
def cbor_head(major, n):
    if n < 24: return bytes([major << 5 | n])
    if n < 256: return bytes([major << 5 | 24, n])
    if n < 65536: return bytes([major << 5 | 25]) + struct.pack(">H", n)
    if n < 2**32: return bytes([major << 5 | 26]) + struct.pack(">I", n)
    return bytes([major << 5 | 27]) + struct.pack(">Q", n)

def cbor(v):
    if v is None: return b"\xf6"
    if v is True: return b"\xf5"
    if v is False: return b"\xf4"
    if isinstance(v, int): return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)
    if isinstance(v, bytes): return cbor_head(2, len(v)) + v
    if isinstance(v, str): b = v.encode(); return cbor_head(3, len(b)) + b
    if isinstance(v, list): return cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict): return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(v)

# --- QUIC varints and Binary HTTP (RFC 9292) ---
def varint(n):
    if n < 64: return bytes([n])
    if n < 16384: return struct.pack(">H", 0x4000 | n)
    if n < 2**30: return struct.pack(">I", 0x80000000 | n)
    return struct.pack(">Q", 0xC000000000000000 | n)

def lp(b):
    return varint(len(b)) + b

def fields_known(fields):
    return lp(b"".join(lp(n) + lp(v) for n, v in fields))

def fields_indeterminate(fields):
    return b"".join(lp(n) + lp(v) for n, v in fields) + b"\x00"

def bhttp_request(method, scheme, authority, path, headers, content, known=True, trailers=()):
    out = varint(0 if known else 2) + lp(method) + lp(scheme) + lp(authority) + lp(path)
    if known:
        return out + fields_known(headers) + lp(content) + fields_known(trailers)
    chunks = (lp(content) if content else b"") + b"\x00"
    return out + fields_indeterminate(headers) + chunks + fields_indeterminate(trailers)

def bhttp_response(status, headers, content, known=True, informational=()):
    out = varint(1 if known else 3)
    for code, fields in informational:
        out += varint(code) + (fields_known(fields) if known else fields_indeterminate(fields))
    out += varint(status)
    if known:
        return out + fields_known(headers) + lp(content)
    return out + fields_indeterminate(headers) + (lp(content) if content else b"") + b"\x00" + b"\x00"


signing = json.load(open(os.path.join(VECTORS, "signing-vectors.json")))
ohttp = json.load(open(os.path.join(VECTORS, "ohttp-vectors.json")))
H = bytes.fromhex

# JSON parser and canonicalizer: the signing vectors' request bodies plus awkward JSON.
for i, r in enumerate(signing["requests"]):
    text = r["request"] if isinstance(r["request"], str) else json.dumps(r["request"])
    seed("FuzzJSON", f"request-{i:02d}.json", text)
    seed("FuzzCanonicalizer", f"request-{i:02d}.json", text)
for i, text in enumerate([
    '{"a":[1,-0,1.5e300,-2E-5,12345678901234567890123,0.1],"b":{"c":null,"d":true,"e":false}}',
    '"\\u00e9\\ud83c\\udf89\\n\\t\\\\\\"\\/\\b\\f\\r \\u007f \xc3\xa9"',
    '\xef\xbb\xbf [ {"k":1,"k":2,"K":3}, "e\\u0301", "\\u00e9" ] ',
    '[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]',
    '1e400', '"\\ud800"', '{"a" 1}', '-', '[1,]',
]):
    seed("FuzzJSON", f"edge-{i:02d}.json", text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text)
seed("FuzzCanonicalizer", "chat-everything.json", json.dumps({
    "model": "m", "temperature": 0.7, "max_tokens": 5, "stop": ["a", "b"], "stream": True,
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}], "response_format": {"type": "json_object"},
    "messages": [
        {"role": "system", "content": "s"}, {"role": "developer", "content": "d"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:x"}},
                                     {"type": "file", "file": {"filename": "a.pdf", "file_data": "AAAA"}}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"}, {"role": "function", "name": "f", "content": "x"}]}))
seed("FuzzCanonicalizer", "completions.json", '{"model":"m","prompt":["a","b"],"temperature":null,"max_tokens":null,"stop":"x"}')

# CBOR, COSE_Sign1, attestation documents: real Nitro documents and their payloads.
nitro = os.path.join(VECTORS, "nitro-real")
for name in sorted(os.listdir(nitro)):
    if not name.endswith(".b64"):
        continue
    document = base64.b64decode(open(os.path.join(nitro, name)).read())
    stem = name[:-4]
    seed("FuzzCOSE", stem + ".cose", document)
    seed("FuzzCBOR", stem + ".cose", document)
for stem in ["epsilon-nitro-verify-2026-02-06", "anjuna-prod-2023-09-21"]:
    document = base64.b64decode(open(os.path.join(nitro, stem + ".b64")).read())
    # COSE_Sign1 = [protected, unprotected, payload, signature]; the payload is element 2.
    # Find it by decoding the array head and the first two elements (both small).
    i = 1
    i += 1 + document[i] - 0x40 if document[i] < 0x58 else 2 + document[i + 1]   # protected bstr
    i += 1                                                                        # {} unprotected
    head = document[i]
    if head == 0x59: n = struct.unpack(">H", document[i + 1:i + 3])[0]; i += 3
    else: n = struct.unpack(">I", document[i + 1:i + 5])[0]; i += 5
    payload = document[i:i + n]
    seed("FuzzCOSE", stem + ".payload", payload)
    seed("FuzzCBOR", stem + ".payload", payload)
seed("FuzzCBOR", "indefinite.cbor", bytes.fromhex("bf6161" "9f0102ff" "6162" "5f4101420203ff" "6163" "7f61786179ff" "ff"))
seed("FuzzCBOR", "tags-and-simple.cbor", bytes.fromhex("83d8184100f6f7") + b"")
seed("FuzzCBOR", "integers.cbor", cbor([0, 23, 24, 255, 256, 65535, 65536, 2**32, 2**64 - 1, -1, -2**64]))

# NSM responses, as aws-nitro-enclaves-nsm-api serialises them.
seed("FuzzNSMResponse", "attestation.cbor", cbor({"Attestation": {"document": base64.b64decode(open(os.path.join(nitro, "epsilon-nitro-verify-2026-02-06.b64")).read())}}))
seed("FuzzNSMResponse", "describe-pcr.cbor", cbor({"DescribePCR": {"lock": True, "data": bytes(48)}}))
seed("FuzzNSMResponse", "get-random.cbor", cbor({"GetRandom": {"random": bytes(range(32))}}))
seed("FuzzNSMResponse", "error.cbor", cbor({"Error": "InvalidIndex"}))

# SSE: first byte picks the cut points, the rest is the stream.
openai = "".join(f"data: {json.dumps(c)}\n\n" for c in [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
    {"choices": [{"index": 0, "delta": {"content": "lo é✓🎉"}, "finish_reason": "stop"}]}]) + "data: [DONE]\n\n"
anthropic = ("event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n: keep-alive\r\n\r\n"
             "event: content_block_delta\rdata: {\"delta\":{\"text\":\"Hi\"}}\r\rid: 7\nretry: 100\n\n"
             "data: line one\ndata:line two\ndata\n\nevent: message_stop\ndata: {}")
seed("FuzzSSE", "openai.sse", b"\x00" + openai.encode())
seed("FuzzSSE", "anthropic-crlf.sse", b"\x03" + anthropic.encode())

# PROXY protocol v2 (haproxy proxy-protocol.txt §2.2).
sig = bytes.fromhex("0d0a0d0a000d0a515549540a")
def proxy(cmd, fam, block):
    return sig + bytes([0x20 | cmd, fam]) + struct.pack(">H", len(block)) + block
tlv = b"\x01\x00\x02h2" + b"\x02\x00\x0bexample.com"
seed("FuzzProxyHeader", "ipv4.bin", proxy(1, 0x11, bytes([192, 0, 2, 1, 10, 0, 0, 1]) + struct.pack(">HH", 54321, 443)) + b"\x16\x03\x01")
seed("FuzzProxyHeader", "ipv6-tlv.bin", proxy(1, 0x21, bytes(15) + b"\x01" + bytes(10) + b"\xff\xff\x0a\x00\x00\x01" + struct.pack(">HH", 1, 443) + tlv))
seed("FuzzProxyHeader", "unix.bin", proxy(1, 0x31, b"/run/a.sock".ljust(108, b"\0") + b"/run/b.sock".ljust(108, b"\0")))
seed("FuzzProxyHeader", "local.bin", proxy(0, 0x00, b""))
seed("FuzzProxyHeader", "unspec-tlv.bin", proxy(1, 0x00, tlv))
seed("FuzzProxyHeader", "v1.txt", "PROXY TCP4 192.0.2.1 10.0.0.1 54321 443\r\n")

# host-proxy request heads: first byte picks the cut points (bit 1: small head limit).
seed("FuzzConnectHead", "connect.http", b"\x00CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nProxy-Connection: keep-alive\r\n\r\n\x16\x03\x01\x00\x05hello")
seed("FuzzConnectHead", "metrics.http", b"\x05GET /metrics HTTP/1.0\r\nAccept: text/plain\t \r\nX-Empty:\r\n\r\n")

# Enclave IPC frames and key-service messages.
hash32 = base64.b64encode(bytes(range(32))).decode()
requests = [
    {"id": 1, "type": "publicKey"}, {"id": 2, "type": "signInference", "requestHash": hash32, "outputHash": hash32},
    {"id": 3, "type": "attest", "nonce": base64.b64encode(bytes(32)).decode()}, {"id": 4, "type": "ohttpConfigs"},
    {"id": 5, "type": "ohttpOpen", "encapsulatedRequest": base64.b64encode(H(ohttp["rfc9458_appendix_a"]["encapsulated_request"])).decode()},
    {"id": 6, "type": "health"}, {"id": 7, "type": "ready"}, {"id": 8, "type": "providerSecrets"},
    {"id": 9, "type": "registerTLSCertificate", "sha256": hash32},
    {"id": 10, "type": "injectSecrets", "envelope": base64.b64encode(b"envelope").decode()},
    {"id": 11, "type": "signRecord", "domain": "heartbeat", "timestamp": 1714000000},
]
responses = [
    {"id": 7, "type": "signInference", "timestamp": 1714000000, "signature": base64.b64encode(bytes(256)).decode()},
    {"id": 8, "type": "error", "code": "replay", "message": "counter reused"},
    {"id": 0, "type": "error", "code": "malformed", "message": "unreadable"},
    {"id": 12, "type": "attest", "document": "AA=="}, {"id": 2, "type": "ready", "ready": True},
    {"id": 3, "type": "providerSecrets", "apiKeys": {"openai": "k"}},
    {"id": 6, "type": "ohttpConfigs", "configs": [{"keyID": 1, "kemID": 32, "kdfID": 1, "aeadID": 3,
        "publicKey": base64.b64encode(bytes(32)).decode(), "keyConfig": base64.b64encode(H(ohttp["gateway_key_config"]["encoded"])).decode()}]},
    {"id": 9, "type": "health", "teeID": hash32, "teeEnabled": True, "providers": ["openai"], "uptimeSeconds": 1},
    {"id": 10, "type": "registerTLSCertificate"},
]
frames = b""
for i, m in enumerate(requests):
    text = json.dumps(m, separators=(",", ":")).encode()
    seed("FuzzKeyServiceCodec", f"request-{i:02d}.json", text)
    frames += struct.pack(">I", len(text)) + text
for i, m in enumerate(responses):
    seed("FuzzKeyServiceCodec", f"response-{i:02d}.json", json.dumps(m, separators=(",", ":")))
seed("FuzzFrameDecoder", "frames.bin", b"\x00" + frames)
seed("FuzzFrameDecoder", "truncated.bin", b"\x03" + frames[:40])

# Supervisor control commands.
for i, c in enumerate(["status\n", "rotate-workers\n", "scale 3\n", "restart worker-1\n", "drain\n", "shutdown\n", "status\r\n"]):
    seed("FuzzControlCommand", f"command-{i}.txt", c)

# OHTTP: key configuration lists, encapsulated requests, chunked responses, Binary HTTP.
appendix = ohttp["rfc9458_appendix_a"]
config = H(ohttp["gateway_key_config"]["encoded"])
rfc_config = H(appendix["key_config"])
xwing_config = bytes([7]) + struct.pack(">H", 0x647A) + bytes(range(256)) * 4 + bytes(192) + struct.pack(">H", 4) + struct.pack(">HH", 1, 2)
seed("FuzzOHTTPKeyConfigs", "vector-list.bin", struct.pack(">H", len(config)) + config)
seed("FuzzOHTTPKeyConfigs", "rfc9458-list.bin", struct.pack(">H", len(rfc_config)) + rfc_config + struct.pack(">H", len(xwing_config)) + xwing_config)
seed("FuzzOHTTPKeyConfigs", "rfc9458-single.bin", rfc_config)
seed("FuzzOHTTPKeyConfigs", "unknown-kem.bin", struct.pack(">H", 9) + b"\x05\x00\x99abc\x00\x00\x00\x00" + struct.pack(">H", len(config)) + config)

seed("FuzzOHTTPRequest", "rfc9458-request.bin", b"\x00" + H(appendix["encapsulated_request"]))
seed("FuzzOHTTPRequest", "roundtrip-x25519-bhttp.bin", b"\x01" + H(appendix["bhttp_request"]))
seed("FuzzOHTTPRequest", "roundtrip-xwing-json.bin", b"\x03" + b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')

chunked = ohttp["chunked_response"]
seed("FuzzOHTTPChunkedResponse", "vector.bin", b"\x00" + H(chunked["response_nonce"]) + H(chunked["wire_after_nonce"]))
seed("FuzzOHTTPChunkedResponse", "vector-split.bin", b"\x01" + H(chunked["response_nonce"]) + H(chunked["wire_after_nonce"]))

chat = b'{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}'
seed("FuzzBinaryHTTP", "rfc9458-request.bin", H(appendix["bhttp_request"]))
seed("FuzzBinaryHTTP", "rfc9458-response.bin", H(appendix["bhttp_response"]))
seed("FuzzBinaryHTTP", "request-known.bin", bhttp_request(b"POST", b"https", b"gateway.example", b"/v1/chat/completions",
    [(b"content-type", b"application/json"), (b"content-length", str(len(chat)).encode())], chat, trailers=[(b"x-t", b"1")]))
seed("FuzzBinaryHTTP", "request-indeterminate.bin", bhttp_request(b"POST", b"https", b"", b"/v1/messages",
    [(b"content-type", b"application/json")], chat, known=False) + b"\x00\x00")
seed("FuzzBinaryHTTP", "response-known.bin", bhttp_response(200, [(b"content-type", b"text/event-stream")], b"data: {}\n\n",
    informational=[(103, [(b"link", b"</a>; rel=preload")])]))
seed("FuzzBinaryHTTP", "response-indeterminate.bin", bhttp_response(404, [(b"content-type", b"application/json")], b'{"error":{}}', known=False))
print("seeds written to", CORPUS)
