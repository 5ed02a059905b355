/// The caller's freshness value for an attestation document: 20 to 64 bytes, the range
/// `/enclave/attestation?nonce=` accepts (20 bytes is the nitriding form). NSM itself caps the
/// nonce at 512 bytes; the tighter limit here keeps the public contract in one place.
public struct AttestationNonce: Hashable, Sendable {
    public static let allowedByteCounts = 20...64

    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) throws(KeyServiceProtocolError) {
        guard Self.allowedByteCounts.contains(bytes.count) else {
            throw KeyServiceProtocolError(
                .invalidLength(field: "nonce", expected: Self.allowedByteCounts, actual: bytes.count)
            )
        }
        self.bytes = bytes
    }
}
