"""Pays an x402 challenge with the official `x402` Python client, offline (eth-account signs).

Usage: x402_pay.py SCHEME PAYMENT_REQUIRED_HEADER [--forge]

Decodes the gateway's PAYMENT-REQUIRED header with x402's own decoder, picks the `accepts`
entry of SCHEME (exact: EIP-3009 TransferWithAuthorization; upto: Permit2 with witness), signs
it with a fixed test key, and prints the PAYMENT-SIGNATURE header value. --forge signs with a
second key but claims the first key's address as payer, so only the signature is wrong.
Also prints, on a second line, the decoded requirements as JSON (for the test to compare).
"""
import base64
import json
import sys

from eth_account import Account
from x402 import x402ClientSync
from x402.http import decode_payment_required_header, encode_payment_signature_header
from x402.mechanisms.evm.exact import ExactEvmScheme
from x402.mechanisms.evm.upto import UptoEvmScheme

PAYER = Account.from_key("0x" + "11" * 32)
OTHER = Account.from_key("0x" + "22" * 32)

scheme, header = sys.argv[1], sys.argv[2]
forge = "--forge" in sys.argv
required = decode_payment_required_header(header)
signer = OTHER if forge else PAYER
client = x402ClientSync(payment_requirements_selector=lambda version, accepts: [a for a in accepts if a.scheme == scheme][0])
client.register("eip155:*", ExactEvmScheme(signer))
client.register("eip155:*", UptoEvmScheme(signer))
payload = client.create_payment_payload(required)
encoded = encode_payment_signature_header(payload)
if forge:
    document = json.loads(base64.b64decode(encoded))
    inner = document["payload"]
    (inner.get("authorization") or inner["permit2Authorization"])["from"] = PAYER.address
    encoded = base64.b64encode(json.dumps(document).encode()).decode()
print(encoded)
print(json.dumps(required.model_dump(by_alias=True, mode="json")))
