"""A mock x402 facilitator and a mock OpenAI upstream on 127.0.0.1, for the payments suite.

Usage: mock_x402.py    (prints "PORTS <facilitator> <upstream>" once listening; stops on SIGTERM)

Facilitator (the x402 facilitator HTTP API):
  GET  /supported  kinds for exact and upto on eip155:8453; upto's extra has facilitatorAddress
  POST /verify     {x402Version, paymentPayload, paymentRequirements} -> {isValid, invalidReason, payer}
  POST /settle     same body -> {success, transaction, network, payer, errorReason}
Signatures are checked independently of the gateway: the EIP-712 typed data is rebuilt here
(EIP-3009 TransferWithAuthorization for exact, Permit2 PermitWitnessTransferFrom for upto) and
the signer recovered with eth-account. A nonce settled once is refused afterwards (replay).
Test control: POST /_control {"fail_settle": N, "verify_delay": SECONDS}; GET /_state returns
{"verify": n, "settle": n, "settlements": [{"scheme", "amount", "payer"}], "upstream": n}.

Upstream: POST /v1/chat/completions answers a Chat Completions event stream "paid answer" with a
usage chunk (prompt 11, completion 7), unless /_control set {"omit_usage": true}.
"""
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from eth_account import Account
from eth_account.messages import encode_typed_data

FACILITATOR_ADDRESS = "0x1111111111111111111111111111111111111111"
PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
lock = threading.Lock()
state = {"verify": 0, "settle": 0, "settlements": [], "upstream": 0, "fail_settle": 0, "verify_delay": 0, "omit_usage": False,
         "used": set()}

EIP3009_TYPES = {
    "TransferWithAuthorization": [
        {"name": "from", "type": "address"}, {"name": "to", "type": "address"}, {"name": "value", "type": "uint256"},
        {"name": "validAfter", "type": "uint256"}, {"name": "validBefore", "type": "uint256"}, {"name": "nonce", "type": "bytes32"},
    ]
}
PERMIT2_TYPES = {
    "PermitWitnessTransferFrom": [
        {"name": "permitted", "type": "TokenPermissions"}, {"name": "spender", "type": "address"},
        {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"}, {"name": "witness", "type": "Witness"},
    ],
    "TokenPermissions": [{"name": "token", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "Witness": [{"name": "to", "type": "address"}, {"name": "facilitator", "type": "address"}, {"name": "validAfter", "type": "uint256"}],
}


def check(body, settling):
    """(payer, nonce, authorized) or raises ValueError(reason)."""
    payload = body["paymentPayload"]["payload"]
    req = body["paymentRequirements"]
    chain = int(req["network"].split(":")[1])
    amount = int(req["amount"])
    if req["scheme"] == "exact":
        auth = payload["authorization"]
        message = {"from": auth["from"], "to": auth["to"], "value": int(auth["value"]), "validAfter": int(auth["validAfter"]),
                   "validBefore": int(auth["validBefore"]), "nonce": bytes.fromhex(auth["nonce"][2:])}
        domain = {"name": req["extra"]["name"], "version": req["extra"]["version"], "chainId": chain,
                  "verifyingContract": req["asset"]}
        signed = encode_typed_data(domain_data=domain, message_types=EIP3009_TYPES, message_data=message)
        payer, nonce, authorized = auth["from"], auth["nonce"], int(auth["value"])
        if auth["to"].lower() != req["payTo"].lower():
            raise ValueError("invalid_exact_evm_payload_recipient_mismatch")
        if authorized != amount:
            raise ValueError("invalid_exact_evm_payload_authorization_value")
        if int(auth["validBefore"]) < time.time():
            raise ValueError("invalid_exact_evm_payload_authorization_valid_before")
    elif req["scheme"] == "upto":
        auth = payload["permit2Authorization"]
        message = {"permitted": {"token": auth["permitted"]["token"], "amount": int(auth["permitted"]["amount"])},
                   "spender": auth["spender"], "nonce": int(auth["nonce"]), "deadline": int(auth["deadline"]),
                   "witness": {"to": auth["witness"]["to"], "facilitator": auth["witness"]["facilitator"],
                               "validAfter": int(auth["witness"]["validAfter"])}}
        domain = {"name": "Permit2", "chainId": chain, "verifyingContract": PERMIT2}
        signed = encode_typed_data(domain_data=domain, message_types=PERMIT2_TYPES, message_data=message)
        payer, nonce, authorized = auth["from"], auth["nonce"], int(auth["permitted"]["amount"])
        if auth["witness"]["to"].lower() != req["payTo"].lower():
            raise ValueError("invalid_upto_evm_payload_recipient_mismatch")
        if amount > authorized:
            raise ValueError("invalid_upto_evm_payload_amount_exceeds_authorization")
    else:
        raise ValueError("unsupported_scheme")
    recovered = Account.recover_message(signed, signature=bytes.fromhex(payload["signature"][2:]))
    if recovered.lower() != payer.lower():
        raise ValueError("invalid_signature")
    with lock:
        if nonce in state["used"]:
            raise ValueError("nonce_already_used")
    return payer, nonce, authorized


class Facilitator(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/supported":
            self.reply(200, {"kinds": [
                {"x402Version": 2, "scheme": "exact", "network": "eip155:8453"},
                {"x402Version": 2, "scheme": "upto", "network": "eip155:8453", "extra": {"facilitatorAddress": FACILITATOR_ADDRESS}},
            ]})
        elif self.path == "/_state":
            with lock:
                self.reply(200, {k: v for k, v in state.items() if k != "used"})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        if self.path == "/_control":
            with lock:
                state.update(body)
            return self.reply(200, {"ok": True})
        if self.path == "/verify":
            with lock:
                state["verify"] += 1
                delay = state["verify_delay"]
            time.sleep(delay)
            try:
                payer, _, _ = check(body, settling=False)
                return self.reply(200, {"isValid": True, "payer": payer})
            except (ValueError, KeyError, TypeError) as error:
                return self.reply(200, {"isValid": False, "invalidReason": str(error)})
        if self.path == "/settle":
            with lock:
                state["settle"] += 1
                if state["fail_settle"] > 0:
                    state["fail_settle"] -= 1
                    return self.reply(200, {"success": False, "errorReason": "scripted_failure", "transaction": "",
                                            "network": body["paymentRequirements"]["network"]})
            try:
                payer, nonce, _ = check(body, settling=True)
            except (ValueError, KeyError, TypeError) as error:
                return self.reply(200, {"success": False, "errorReason": str(error), "transaction": "", "network": "eip155:8453"})
            with lock:
                state["used"].add(nonce)
                state["settlements"].append({"scheme": body["paymentRequirements"]["scheme"],
                                             "amount": body["paymentRequirements"]["amount"], "payer": payer})
            return self.reply(200, {"success": True, "transaction": "0x" + "ab" * 32, "network": "eip155:8453", "payer": payer})
        self.reply(404, {"error": "not found"})


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with lock:
            state["upstream"] += 1
            omit = state["omit_usage"]
        chunks = [{"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4.1",
                   "choices": [{"index": 0, "delta": {"role": "assistant", "content": "paid answer"}, "finish_reason": None}]},
                  {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4.1",
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
        if not omit:
            chunks.append({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4.1", "choices": [],
                           "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}})
        data = "".join("data: %s\n\n" % json.dumps(c) for c in chunks) + "data: [DONE]\n\n"
        raw = data.encode()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


facilitator = ThreadingHTTPServer(("127.0.0.1", 0), Facilitator)
upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
for server in (facilitator, upstream):
    threading.Thread(target=server.serve_forever, daemon=True).start()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("PORTS %d %d" % (facilitator.server_address[1], upstream.server_address[1]), flush=True)
while True:
    time.sleep(3600)
