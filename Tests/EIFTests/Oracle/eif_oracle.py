#!/usr/bin/env python3
"""An independent reading of the Nitro Enclave Image Format, for EIFTests.

Written from aws-nitro-enclaves-image-format's description of the format, not from our Swift
code: struct for the header, zlib for the CRC, hashlib for the PCRs, cbor2 and cryptography
for the signature section. Commands:

  read FILE.eif              -> JSON: header fields, section list, crc_ok, PCR0/1/2(/8),
                                metadata, signature check
  write OUT --kernel K --cmdline TEXT --metadata M --ramdisk R [--ramdisk R ...]
                             -> an unsigned EIF laid out as nitro-cli lays it out
  pcr2 RAMDISK [RAMDISK ...] -> PCR2 of customer ramdisks
"""
import argparse
import hashlib
import json
import struct
import sys
import zlib

HEADER = struct.Struct(">4sHHQQHH32Q32QII")  # 548 bytes
SECTION = struct.Struct(">HHQ")  # 12 bytes
TYPES = {1: "kernel", 2: "cmdline", 3: "ramdisk", 4: "signature", 5: "metadata"}


def pcr(data_parts):
    inner = hashlib.sha384()
    for part in data_parts:
        inner.update(part)
    return hashlib.sha384(b"\0" * 48 + inner.digest()).hexdigest()


def as_bytes(value):
    # serde_cbor writes Vec<u8> as an array of integers.
    return bytes(value) if isinstance(value, list) else value


def read(path):
    data = open(path, "rb").read()
    if len(data) < HEADER.size:
        raise ValueError("short header")
    fields = HEADER.unpack_from(data)
    magic, version, flags, mem, cpus, _reserved, count = fields[:7]
    offsets, sizes = fields[7:39], fields[39:71]
    crc = fields[72]
    if magic != b".eif":
        raise ValueError("bad magic")
    sections = []
    for i in range(count):
        kind, sflags, size = SECTION.unpack_from(data, offsets[i])
        if size != sizes[i]:
            raise ValueError("size mismatch")
        start = offsets[i] + SECTION.size
        body = data[start:start + size]
        if len(body) != size:
            raise ValueError("truncated section")
        sections.append((TYPES[kind], body))
    crc_ok = zlib.crc32(data[:HEADER.size - 4] + data[HEADER.size:]) == crc
    by_type = lambda name: [body for kind, body in sections if kind == name]
    kernel, cmdline, ramdisks = by_type("kernel")[0], by_type("cmdline")[0], by_type("ramdisk")
    out = {
        "version": version, "flags": flags, "default_mem": mem, "default_cpus": cpus,
        "sections": [{"type": kind, "size": len(body)} for kind, body in sections],
        "crc_ok": crc_ok,
        "PCR0": pcr([kernel, cmdline] + ramdisks),
        "PCR1": pcr([kernel, cmdline, ramdisks[0]]),
        "PCR2": pcr(ramdisks[1:]),
        "metadata": json.loads(by_type("metadata")[0]) if by_type("metadata") else None,
    }
    signatures = by_type("signature")
    if signatures:
        out.update(check_signature(signatures[0], out["PCR0"]))
    return out


def check_signature(section, pcr0_hex):
    import cbor2
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    entries = cbor2.loads(section)
    first = entries[0]
    pem = as_bytes(first["signing_certificate"])
    cose = cbor2.loads(as_bytes(first["signature"]))
    protected, _unprotected, payload, signature = cose
    certificate = x509.load_pem_x509_certificate(pem)
    der = certificate.public_bytes(serialization.Encoding.DER)
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    r = int.from_bytes(signature[:48], "big")
    s = int.from_bytes(signature[48:], "big")
    try:
        certificate.public_key().verify(utils.encode_dss_signature(r, s), to_be_signed, ec.ECDSA(hashes.SHA384()))
        valid = True
    except Exception:
        valid = False
    info = cbor2.loads(payload)
    return {
        "PCR8": pcr([der]),
        "signature_valid": valid,
        "protected_header": cbor2.loads(protected),
        "signed_register_index": info["register_index"],
        "signed_register_value": as_bytes(info["register_value"]).hex(),
        "signed_pcr_matches": as_bytes(info["register_value"]).hex() == pcr0_hex,
        "fields_are_integer_arrays": isinstance(first["signing_certificate"], list) and isinstance(first["signature"], list),
    }


def write(args):
    bodies = [(1, open(args.kernel, "rb").read()), (2, args.cmdline.encode()), (5, open(args.metadata, "rb").read())]
    bodies += [(3, open(path, "rb").read()) for path in args.ramdisk]
    offsets, sizes, position = [0] * 32, [0] * 32, HEADER.size
    for i, (_, body) in enumerate(bodies):
        offsets[i], sizes[i] = position, len(body)
        position += SECTION.size + len(body)
    payload = b"".join(SECTION.pack(kind, 0, len(body)) + body for kind, body in bodies)

    def header(crc):
        return HEADER.pack(b".eif", 4, 0, 1024 * 1024 * 1024, 2, 0, len(bodies), *offsets, *sizes, 0, crc)

    crc = zlib.crc32(header(0)[:-4] + payload)
    open(args.out, "wb").write(header(crc) + payload)


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("read").add_argument("file")
    writer = commands.add_parser("write")
    writer.add_argument("out")
    writer.add_argument("--kernel", required=True)
    writer.add_argument("--cmdline", required=True)
    writer.add_argument("--metadata", required=True)
    writer.add_argument("--ramdisk", action="append", required=True)
    commands.add_parser("pcr2").add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.command == "read":
        print(json.dumps(read(args.file)))
    elif args.command == "write":
        write(args)
    else:
        print(pcr([open(path, "rb").read() for path in args.files]))


if __name__ == "__main__":
    sys.exit(main())
