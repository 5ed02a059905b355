#!/usr/bin/env python3
"""Independent OHTTP implementation used as a test oracle by OHTTPTests/PythonInteropTests.

HPKE comes from pyhpke (key schedule, AEAD, DHKEM(X25519)); X-Wing, which pyhpke does not
implement, is built here from the `cryptography` package's ML-KEM-768 (cryptography>=47) and X25519 following
draft-connolly-cfrg-xwing-kem-06 and plugged into pyhpke's cipher suite. Everything OHTTP
specific (RFC 9458 key configs, request header and info, response key schedule, and the
chunked framing of draft-ietf-ohai-chunked-ohttp-08) is written out here from the specs,
without reference to the Swift code.

Usage: ohttp_oracle.py COMMAND, with a JSON object on stdin and a JSON object on stdout.
Byte strings are hex. Commands: encapsulate, open, keygen, decapsulate, xwing-selfcheck.
"""

import hashlib
import hmac
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKeyPair
from pyhpke.aead import AEAD
from pyhpke.kdf import KDF

KEM_X25519 = 0x0020
KEM_XWING = 0x647A
PUBLIC_KEY_LENGTH = {KEM_X25519: 32, KEM_XWING: 1216}
ENC_LENGTH = {KEM_X25519: 32, KEM_XWING: 1120}
AEAD_KEY_LENGTH = {1: 16, 2: 32, 3: 32}
NONCE_LENGTH = 12
REQUEST_LABEL = b"message/bhttp request"
RESPONSE_LABEL = b"message/bhttp response"
CHUNKED_RESPONSE_LABEL = b"message/bhttp chunked response"


# --- X-Wing (draft-connolly-cfrg-xwing-kem-06) ---------------------------------------------

XWING_LABEL = b"\\.//^\\"


class XWingKey:
    def __init__(self, public: bytes, seed: bytes | None = None):
        self.public = public
        self.seed = seed


def xwing_expand(seed: bytes):
    expanded = hashlib.shake_256(seed).digest(96)
    ml_kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
    x = x25519.X25519PrivateKey.from_private_bytes(expanded[64:])
    return ml_kem, x, x.public_key().public_bytes_raw()


def xwing_public_key(seed: bytes) -> bytes:
    ml_kem, _, pk_x = xwing_expand(seed)
    return ml_kem.public_key().public_bytes_raw() + pk_x


def xwing_combine(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + XWING_LABEL).digest()


def xwing_decapsulate(seed: bytes, ct: bytes) -> bytes:
    if len(ct) != 1120:
        raise ValueError("X-Wing ciphertext must be 1120 bytes")
    ml_kem, x, pk_x = xwing_expand(seed)
    ct_x = ct[1088:]
    ss_x = x.exchange(x25519.X25519PublicKey.from_public_bytes(ct_x))
    return xwing_combine(ml_kem.decapsulate(ct[:1088]), ss_x, ct_x, pk_x)


class _KEMIdentifier:
    value = KEM_XWING


class XWingKEM:
    """The parts of pyhpke's KEM interface that CipherSuite uses, for X-Wing."""

    id = _KEMIdentifier()

    def encap(self, pkr: XWingKey, sks=None, eks=None):
        pk_m, pk_x = pkr.public[:1184], pkr.public[1184:]
        ek_x = x25519.X25519PrivateKey.generate()
        ct_x = ek_x.public_key().public_bytes_raw()
        ss_x = ek_x.exchange(x25519.X25519PublicKey.from_public_bytes(pk_x))
        ss_m, ct_m = mlkem.MLKEM768PublicKey.from_public_bytes(pk_m).encapsulate()
        return xwing_combine(ss_m, ss_x, ct_x, pk_x), ct_m + ct_x

    def decap(self, enc: bytes, skr: XWingKey, pks=None) -> bytes:
        return xwing_decapsulate(skr.seed, enc)


# --- HPKE suites -----------------------------------------------------------------------------

def cipher_suite(kem: int, kdf: int, aead: int) -> CipherSuite:
    if kdf != 1:
        raise ValueError(f"unsupported KDF {kdf:#06x}")
    if kem == KEM_X25519:
        return CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId(aead))
    if kem == KEM_XWING:
        suite_id = b"HPKE" + struct.pack(">HHH", kem, kdf, aead)
        return CipherSuite(XWingKEM(), KDF(KDFId.HKDF_SHA256, suite_id), AEAD(AEADId(aead)))
    raise ValueError(f"unsupported KEM {kem:#06x}")


def public_key(suite: CipherSuite, kem: int, raw: bytes):
    return XWingKey(raw) if kem == KEM_XWING else suite.kem.deserialize_public_key(raw)


def private_key(suite: CipherSuite, kem: int, raw: bytes):
    if kem == KEM_XWING:
        return XWingKey(xwing_public_key(raw), seed=raw)
    return suite.kem.deserialize_private_key(raw)


# --- RFC 9458 key configuration and request --------------------------------------------------

def parse_key_config(config: bytes) -> dict:
    key_id, kem = config[0], struct.unpack(">H", config[1:3])[0]
    n_pk = PUBLIC_KEY_LENGTH[kem]
    pk = config[3:3 + n_pk]
    (suites_length,) = struct.unpack(">H", config[3 + n_pk:5 + n_pk])
    body = config[5 + n_pk:]
    if len(body) != suites_length or suites_length % 4 or not suites_length:
        raise ValueError("bad symmetric algorithms length")
    suites = [struct.unpack(">HH", body[i:i + 4]) for i in range(0, suites_length, 4)]
    return {"key_id": key_id, "kem": kem, "public_key": pk, "suites": suites}


def request_header(key_id: int, kem: int, kdf: int, aead: int) -> bytes:
    return bytes([key_id]) + struct.pack(">HHH", kem, kdf, aead)


def exported_secrets(context, aead: int) -> dict:
    length = max(NONCE_LENGTH, AEAD_KEY_LENGTH[aead])
    return {
        "response_secret": context.export(RESPONSE_LABEL, length).hex(),
        "chunked_response_secret": context.export(CHUNKED_RESPONSE_LABEL, length).hex(),
    }


def seal_request(config: dict, request: bytes, ephemeral_private_key: bytes | None = None):
    """Encapsulates `request` (RFC 9458 §4.3) to a parsed key configuration with its first
    suite; a fixed X25519 ephemeral key makes it reproducible. Returns (encapsulated request,
    enc, the sender context, aead)."""
    kem = config["kem"]
    kdf, aead = config["suites"][0]
    suite = cipher_suite(kem, kdf, aead)
    header = request_header(config["key_id"], kem, kdf, aead)
    ephemeral = None
    if ephemeral_private_key is not None:
        public = x25519.X25519PrivateKey.from_private_bytes(ephemeral_private_key).public_key().public_bytes_raw()
        ephemeral = KEMKeyPair(suite.kem.deserialize_private_key(ephemeral_private_key),
                               suite.kem.deserialize_public_key(public))
    enc, sender = suite.create_sender_context(
        public_key(suite, kem, config["public_key"]), REQUEST_LABEL + b"\x00" + header, eks=ephemeral)
    return header + enc + sender.seal(request, b""), enc, sender, aead


def encapsulate(args: dict) -> dict:
    ephemeral = bytes.fromhex(args["ephemeral_private_key"]) if "ephemeral_private_key" in args else None
    wire, enc, sender, aead = seal_request(
        parse_key_config(bytes.fromhex(args["key_config"])), bytes.fromhex(args["request"]), ephemeral)
    return {"encapsulated_request": wire.hex(), "enc": enc.hex(), **exported_secrets(sender, aead)}


def decapsulate(args: dict) -> dict:
    config = parse_key_config(bytes.fromhex(args["key_config"]))
    request = bytes.fromhex(args["encapsulated_request"])
    key_id, kem, kdf, aead = request[0], *struct.unpack(">HHH", request[1:7])
    if key_id != config["key_id"] or kem != config["kem"] or (kdf, aead) not in config["suites"]:
        raise ValueError("request header does not match the key configuration")
    suite = cipher_suite(kem, kdf, aead)
    enc, ciphertext = request[7:7 + ENC_LENGTH[kem]], request[7 + ENC_LENGTH[kem]:]
    recipient = suite.create_recipient_context(
        enc, private_key(suite, kem, bytes.fromhex(args["private_key"])), REQUEST_LABEL + b"\x00" + request[:7])
    secrets = exported_secrets(recipient, aead)
    nonce = bytes.fromhex(args["response_nonce"]) if "response_nonce" in args else None
    response = seal_response(aead, bytes.fromhex(secrets["response_secret"]), enc, bytes.fromhex(args["response"]), nonce)
    chunked = seal_chunked(
        aead, bytes.fromhex(secrets["chunked_response_secret"]), enc, [bytes.fromhex(c) for c in args["chunks"]])
    return {
        "request": recipient.open(ciphertext, b"").hex(),
        "enc": enc.hex(),
        **secrets,
        "response": response.hex(),
        "chunked_response": chunked.hex(),
    }


# --- Responses: RFC 9458 §4.4 and draft-ietf-ohai-chunked-ohttp-08 ---------------------------

def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out, counter = out + block, counter + 1
    return out[:length]


def response_keys(aead: int, secret: bytes, enc: bytes, response_nonce: bytes):
    prk = hmac.new(enc + response_nonce, secret, hashlib.sha256).digest()
    key = hkdf_expand(prk, b"key", AEAD_KEY_LENGTH[aead])
    cipher = ChaCha20Poly1305(key) if aead == 3 else AESGCM(key)
    return cipher, hkdf_expand(prk, b"nonce", NONCE_LENGTH)


def response_nonce_length(aead: int) -> int:
    return max(NONCE_LENGTH, AEAD_KEY_LENGTH[aead])


def seal_response(aead: int, secret: bytes, enc: bytes, plaintext: bytes, nonce: bytes | None = None) -> bytes:
    nonce = nonce if nonce is not None else os.urandom(response_nonce_length(aead))
    cipher, aead_nonce = response_keys(aead, secret, enc, nonce)
    return nonce + cipher.encrypt(aead_nonce, plaintext, b"")


def open_response(aead: int, secret: bytes, enc: bytes, wire: bytes) -> bytes:
    n = response_nonce_length(aead)
    cipher, aead_nonce = response_keys(aead, secret, enc, wire[:n])
    return cipher.decrypt(aead_nonce, wire[n:], b"")


def varint(value: int) -> bytes:
    for length, prefix in ((1, 0x00), (2, 0x40), (4, 0x80), (8, 0xC0)):
        if value < 1 << (8 * length - 2):
            encoded = bytearray(value.to_bytes(length, "big"))
            encoded[0] |= prefix
            return bytes(encoded)
    raise ValueError("varint too large")


def read_varint(data: bytes, offset: int):
    length = 1 << (data[offset] >> 6)
    value = int.from_bytes(data[offset:offset + length], "big") & ((1 << (8 * length - 2)) - 1)
    return value, offset + length


def chunk_nonce(aead_nonce: bytes, counter: int) -> bytes:
    return bytes(a ^ b for a, b in zip(aead_nonce, counter.to_bytes(NONCE_LENGTH, "big")))


def seal_chunked(aead: int, secret: bytes, enc: bytes, chunks: list) -> bytes:
    nonce = os.urandom(response_nonce_length(aead))
    cipher, aead_nonce = response_keys(aead, secret, enc, nonce)
    out = nonce
    for counter, chunk in enumerate(chunks):
        final = counter == len(chunks) - 1
        sealed = cipher.encrypt(chunk_nonce(aead_nonce, counter), chunk, b"final" if final else b"")
        out += (b"\x00" if final else varint(len(sealed))) + sealed
    return out


def open_chunked(aead: int, secret: bytes, enc: bytes, wire: bytes) -> list:
    n = response_nonce_length(aead)
    cipher, aead_nonce = response_keys(aead, secret, enc, wire[:n])
    chunks, offset, counter = [], n, 0
    while True:
        length, offset = read_varint(wire, offset)
        if length == 0:
            chunks.append(cipher.decrypt(chunk_nonce(aead_nonce, counter), wire[offset:], b"final"))
            return chunks
        chunks.append(cipher.decrypt(chunk_nonce(aead_nonce, counter), wire[offset:offset + length], b""))
        offset, counter = offset + length, counter + 1


def open_responses(args: dict) -> dict:
    aead, enc = args["aead"], bytes.fromhex(args["enc"])
    response = open_response(aead, bytes.fromhex(args["response_secret"]), enc, bytes.fromhex(args["response"]))
    chunks = open_chunked(aead, bytes.fromhex(args["chunked_response_secret"]), enc, bytes.fromhex(args["chunked_response"]))
    return {"response": response.hex(), "chunks": [c.hex() for c in chunks]}


# --- Keys ------------------------------------------------------------------------------------

def keygen(args: dict) -> dict:
    kem, kdf, aead, key_id = args["kem"], args["kdf"], args["aead"], args["key_id"]
    if kem == KEM_XWING:
        seed = os.urandom(32)
        sk, pk = seed, xwing_public_key(seed)
    else:
        key = x25519.X25519PrivateKey.generate()
        sk, pk = key.private_bytes_raw(), key.public_key().public_bytes_raw()
    config = bytes([key_id]) + struct.pack(">H", kem) + pk + struct.pack(">HHH", 4, kdf, aead)
    return {"private_key": sk.hex(), "key_config": config.hex()}


def xwing_selfcheck(args: dict) -> dict:
    seed = bytes.fromhex(args["sk"])
    return {
        "public_key_matches": xwing_public_key(seed).hex() == args["pk"],
        "shared_secret_matches": xwing_decapsulate(seed, bytes.fromhex(args["ct"])).hex() == args["ss"],
    }


COMMANDS = {
    "encapsulate": encapsulate,
    "open": open_responses,
    "keygen": keygen,
    "decapsulate": decapsulate,
    "xwing-selfcheck": xwing_selfcheck,
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(COMMANDS)} < request.json")
    json.dump(COMMANDS[sys.argv[1]](json.load(sys.stdin)), sys.stdout)
