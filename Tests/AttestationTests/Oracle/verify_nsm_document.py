#!/usr/bin/env python3
"""Independent oracle for NSM attestation documents, written against cbor2 and cryptography
rather than our Swift code: checks the COSE_Sign1 ES384 signature over the Sig_structure, the
chain cabundle[0] (must equal the given root) -> ... -> leaf at a given time, and that cbor2
re-encodes the document byte for byte (so our encoder agrees with a real CBOR library).

usage: verify_nsm_document.py DOCUMENT ROOT_PEM UNIX_SECONDS
prints one JSON object; exit 0 when signature and chain verify, 1 when not, 3 when a module is missing.
"""
import datetime
import json
import sys

try:
    import cbor2
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, utils
except ImportError as error:
    print(f"missing Python module {error.name}: pip install -r Tests/requirements.txt", file=sys.stderr)
    sys.exit(3)


def main() -> int:
    document_path, root_path, at = sys.argv[1], sys.argv[2], float(sys.argv[3])
    document = open(document_path, "rb").read()
    root = x509.load_pem_x509_certificate(open(root_path, "rb").read())
    when = datetime.datetime.fromtimestamp(at, tz=datetime.timezone.utc)

    item = cbor2.loads(document)
    tagged = isinstance(item, cbor2.CBORTag)
    protected, unprotected, payload, signature = item.value if tagged else item
    fields = cbor2.loads(payload)
    result = {
        "tagged": tagged,
        "protected": cbor2.loads(protected),
        "unprotected_empty": unprotected == {},
        "keys": list(fields.keys()),
        "module_id": fields["module_id"],
        "digest": fields["digest"],
        "timestamp": fields["timestamp"],
        "pcrs": {str(k): v.hex() for k, v in fields["pcrs"].items()},
        "public_key": fields["public_key"].hex() if fields["public_key"] is not None else None,
        "user_data": fields["user_data"].hex() if fields["user_data"] is not None else None,
        "nonce": fields["nonce"].hex() if fields["nonce"] is not None else None,
        "reencodes_identically": cbor2.dumps(fields) == payload and cbor2.dumps(item) == document,
    }

    leaf = x509.load_der_x509_certificate(fields["certificate"])
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big")
    try:
        leaf.public_key().verify(utils.encode_dss_signature(r, s), to_be_signed, ec.ECDSA(hashes.SHA384()))
        result["signature"] = "ok"
    except InvalidSignature:
        result["signature"] = "invalid"

    chain = [x509.load_der_x509_certificate(der) for der in fields["cabundle"]] + [leaf]
    result["chain"] = "ok"
    if chain[0].public_bytes(serialization.Encoding.DER) != root.public_bytes(serialization.Encoding.DER):
        result["chain"] = "cabundle[0] is not the given root"
    for index in range(1, len(chain)):
        try:
            chain[index].verify_directly_issued_by(chain[index - 1])
        except (ValueError, TypeError, InvalidSignature) as error:
            result["chain"] = f"certificate {index} not issued by {index - 1}: {error}"
    for index, certificate in enumerate(chain):
        if not certificate.not_valid_before_utc <= when <= certificate.not_valid_after_utc:
            result["chain"] = f"certificate {index} not valid at {when.isoformat()}"

    print(json.dumps(result))
    return 0 if result["signature"] == "ok" and result["chain"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
