"""Encapsulated requests for the Oblivious HTTP rows of `scripts/bench --appliance`.

wrk cannot run HPKE, so the requests are sealed here beforehand: for each suite the gateway
publishes (GET /.well-known/ohttp-gateway), `count` independent encapsulations (each with its own
ephemeral key) of the benchmark's chat request as Binary HTTP, written one hex line each for
`chat.lua` to cycle through. The sealing is the tests' independent implementation
(Tests/OHTTPTests/Oracle/ohttp_oracle.py and Tests/ApplianceTests/Clients/ohttp_client.py), and
before the load starts one request of each suite is sent, its answer opened and its signature
verified (tee_verify.py), so the rows measure answers a client would accept. The gateway still
opens, answers, signs and seals every request the load sends; only the client's own work (seal
and open) is left out, as the plain rows leave out wrk's.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [f"{ROOT}/Tests/OHTTPTests/Oracle", f"{ROOT}/Tests/ApplianceTests/Clients"]
import ohttp_client  # noqa: E402
import ohttp_oracle as oracle  # noqa: E402
import tee_verify  # noqa: E402

SUITE_NAMES = {oracle.KEM_X25519: "x25519", oracle.KEM_XWING: "xwing"}


def seal(config, request):
    """Returns (encapsulated request, enc, response secret, aead) for one key configuration
    as `ohttp_client.Gateway` parsed it."""
    wire, enc, sender, aead = oracle.seal_request(dict(config, kem=config["kem_id"]), request)
    return wire, enc, bytes.fromhex(oracle.exported_secrets(sender, aead)["response_secret"]), aead


def prepare(url, cafile, chat_body, directory, count=200):
    """Writes DIRECTORY/ohttp-SUITE.hex for every suite and returns {suite: path}, after one
    verified exchange per suite. Raises when an answer does not open or does not verify."""
    gateway = ohttp_client.Gateway(url, cafile)
    inner = ohttp_client.bhttp_request("POST", "/v1/chat/completions",
                                       [("content-type", "application/json")], chat_body.encode())
    paths = {}
    for config in gateway.configs:
        name = SUITE_NAMES.get(config["kem_id"])
        if name is None:
            continue
        wire, enc, secret, aead = seal(config, inner)
        status, headers, body = gateway.request("POST", "/v1/ohttp", wire, "message/ohttp-req")
        if status != 200 or headers.get("content-type") != "message/ohttp-res":
            raise RuntimeError(f"OHTTP {name}: HTTP {status} {headers.get('content-type')}: {body[:200]!r}")
        inner_status, _, answer = ohttp_client.bhttp_decode_response(oracle.open_response(aead, secret, enc, body))
        if inner_status != 200:
            raise RuntimeError(f"OHTTP {name}: inner status {inner_status}: {answer[:200]!r}")
        tee_verify.verify_exchange("chat", chat_body.encode(), answer, stream=False, key=gateway.key)
        paths[name] = f"{directory}/ohttp-{name}.hex"
        with open(paths[name], "w") as out:
            for _ in range(count):
                out.write(seal(config, inner)[0].hex() + "\n")
    return paths
