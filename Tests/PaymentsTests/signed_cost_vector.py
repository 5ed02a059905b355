"""Recomputes the tee_cost binding vector independently (pycryptodome keccak, Python json)."""
import json
from Crypto.Hash import keccak

def k(data: bytes) -> bytes:
    h = keccak.new(digest_bits=256)
    h.update(data)
    return h.digest()

cost = {"amount": "10500000000000000", "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "network": "eip155:8453",
        "input_tokens": 1000, "output_tokens": 500, "price_version": "p0123456789abcdef"}
print(k(k("Hello!".encode()) + k(json.dumps(cost, sort_keys=True).encode())).hex())
