import Foundation

/// The two forms an attestation document travels in: raw COSE_Sign1 CBOR (what `/dev/nsm`
/// returns) and standard base64 of it (what `/enclave/attestation` serves, nitriding-style,
/// followed by `\n`). `decode` tells them apart by the first byte, so a saved HTTP body, a
/// `base64 -d` of it or a file written with or without a trailing newline all verify alike.
public enum AttestationEncoding {
    /// Larger than any real document (about 4.5 KiB of CBOR): refuse before decoding anything.
    public static let maxEncodedSize = 64 * 1024

    /// Returns the raw COSE_Sign1 bytes. Raw CBOR is recognised by its first byte: an array of
    /// four (0x84) or tag 18 (0xd2), neither of which is a base64 character. Anything else must
    /// be base64 (whitespace around it and line breaks inside it are ignored).
    public static func decode(_ bytes: [UInt8]) throws(AttestationEncodingError) -> [UInt8] {
        guard bytes.count <= maxEncodedSize else { throw .tooLarge(bytes.count, limit: maxEncodedSize) }
        guard let first = bytes.first else { throw .empty }
        if first == 0x84 || first == 0xd2 { return bytes }

        var text: [UInt8] = []
        text.reserveCapacity(bytes.count)
        for (offset, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): continue
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
                text.append(byte)
            default: throw .notBase64(offset: offset, byte: byte)
            }
        }
        guard !text.isEmpty else { throw .empty }
        guard let data = Data(base64Encoded: Data(text)) else { throw .malformedBase64(characters: text.count) }
        return Array(data)
    }
}

public enum AttestationEncodingError: Error, Equatable, CustomStringConvertible {
    case empty
    case tooLarge(Int, limit: Int)
    case notBase64(offset: Int, byte: UInt8)
    case malformedBase64(characters: Int)

    public var description: String {
        switch self {
        case .empty: "attestation document is empty"
        case .tooLarge(let size, let limit): "attestation document is \(size) bytes, more than the \(limit) accepted"
        case .notBase64(let offset, let byte):
            "attestation document is neither raw COSE_Sign1 CBOR (first byte 0x84 or 0xd2) nor base64: byte 0x\(String(format: "%02x", byte)) at offset \(offset) is not a base64 character"
        case .malformedBase64(let characters):
            "attestation document is not valid base64: \(characters) characters, wrong length or misplaced '=' padding"
        }
    }
}
