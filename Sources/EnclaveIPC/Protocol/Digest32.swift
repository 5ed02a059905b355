/// Exactly 32 bytes: a keccak-256 or SHA-256 digest, or a `teeID`. Holding one proves the
/// length was checked, so the key service never sees a short or long hash.
public struct Digest32: Hashable, Sendable {
    public static let byteCount = 32

    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) throws(KeyServiceProtocolError) {
        guard bytes.count == Self.byteCount else {
            throw KeyServiceProtocolError(
                .invalidLength(field: "digest", expected: Self.byteCount...Self.byteCount, actual: bytes.count)
            )
        }
        self.bytes = bytes
    }
}

extension Digest32: CustomStringConvertible {
    /// Lowercase hex with a `0x` prefix, the form `tee_id` takes in every JSON API.
    public var description: String {
        "0x" + bytes.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 0x10 ? "0" + hex : hex
        }.joined()
    }
}

extension WireReader {
    func digest(_ field: String) throws(KeyServiceProtocolError) -> Digest32 {
        try Digest32(bytes(field, length: Digest32.byteCount...Digest32.byteCount))
    }
}
