#!/usr/bin/env python3
"""The same per-request signing pipeline the way upstream's Python gateway does it:
json.loads -> projection -> json.dumps(sort_keys=True) -> keccak -> RSA-PSS sign.
Prints median nanoseconds per operation as JSON, for scripts/bench to put next to ours."""
import json
import statistics
import sys
import time

from Crypto.Hash import keccak
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def k(data):
    h = keccak.new(digest_bits=256)
    h.update(data)
    return h.digest()


def project(r):
    d = {"model": r["model"], "messages": [{"role": m["role"], "content": m.get("content") or ""} for m in r["messages"]],
         "temperature": float(r["temperature"]) if r.get("temperature") is not None else 0.0}
    for f in ("max_tokens", "stop", "tools", "response_format"):
        if r.get(f):
            d[f] = r[f]
    return d


def median_ns(fn, seconds=2.0):
    samples, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples)


def full_pipeline():
    request_hash = k(json.dumps(project(json.loads(body)), sort_keys=True).encode())
    message = k(request_hash + output_hash + (1747000000).to_bytes(32, "big"))
    return key.sign(message, pss, hashes.SHA256())


body = open(sys.argv[1], "rb").read()
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
output_hash = k("Sure — here is a short answer with a little non-ASCII: naïve café ✓.".encode())
results = {
    "parse + canonicalize + keccak (2 KB chat)": median_ns(lambda: k(json.dumps(project(json.loads(body)), sort_keys=True).encode())),
    "keccak-256 (2 KB)": median_ns(lambda: k(body)),
    "RSA-2048 PSS sign (the bound)": median_ns(lambda: key.sign(output_hash, pss, hashes.SHA256())),
    "full: parse + canonicalize + keccak + sign": median_ns(full_pipeline),
}
print(json.dumps(results))
