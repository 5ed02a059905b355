"""An x402-paid request through POST /v1/ohttp: the relay pays on the outer request, once.

Run: ohttp_paid.py URL CAFILE. Uses ohttp_client.py's independent OHTTP implementation and the
official x402 client. Steps: an encapsulated gpt-4.1 chat request without payment must come back
as a plaintext outer 402 with PAYMENT-REQUIRED (the one inner answer not sealed); the same inner
request, re-encapsulated, with PAYMENT-SIGNATURE on the outer request must come back sealed (200)
with PAYMENT-RESPONSE outside and a `tee_cost` inside equal to the amount paid.
Prints one JSON line {"ok": true, "amount": "..."} or {"ok": false, "error": "..."}; exit 1 on failure.
"""
import http.client
import json
import sys

from eth_account import Account
from x402 import x402ClientSync
from x402.http import decode_payment_required_header, encode_payment_signature_header
from x402.mechanisms.evm.exact import ExactEvmScheme

import ohttp_client
from ohttp_client import Exchange, Gateway, expect

REQUEST = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "pay obliviously"}], "max_tokens": 20}


def post(gateway, body, headers):
    connection = http.client.HTTPSConnection(gateway.host, gateway.port, context=gateway.context, timeout=60)
    connection.request("POST", "/v1/ohttp", body=body, headers=dict({"content-type": "message/ohttp-req"}, **headers))
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def main(url, cafile):
    gateway = Gateway(url, cafile)
    inner = json.dumps(REQUEST).encode()
    status, headers, body = post(gateway, Exchange(gateway.x25519, [inner], False).body, {})
    expect(status == 402, f"unpaid outer status {status}")
    expect("payment-required" in headers, f"no PAYMENT-REQUIRED: {headers}")
    required = decode_payment_required_header(headers["payment-required"])
    client = x402ClientSync(payment_requirements_selector=lambda version, accepts: [a for a in accepts if a.scheme == "exact"][0])
    client.register("eip155:*", ExactEvmScheme(Account.from_key("0x" + "33" * 32)))
    payment = client.create_payment_payload(required)
    exchange = Exchange(gateway.x25519, [inner], False)
    status, headers, body = post(gateway, exchange.body, {"PAYMENT-SIGNATURE": encode_payment_signature_header(payment)})
    expect(status == 200, f"paid outer status {status}: {body[:300]!r}")
    expect(headers.get("content-type") == "message/ohttp-res", headers)
    expect("payment-response" in headers, f"no PAYMENT-RESPONSE: {headers}")
    answer = json.loads(exchange.open_response(body))
    cost = answer.get("tee_cost")
    expect(cost is not None, f"no tee_cost in {answer}")
    expect(cost["amount"] == payment.accepted.amount, f"tee_cost {cost} vs paid {payment.accepted.amount}")
    return cost["amount"]


if __name__ == "__main__":
    try:
        amount = main(sys.argv[1], sys.argv[2])
        print(json.dumps({"ok": True, "amount": amount}))
    except Exception as error:  # noqa: BLE001 - reported to the Swift test
        print(json.dumps({"ok": False, "error": repr(error)}))
        sys.exit(1)
