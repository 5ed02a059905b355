/// Why a gateway could not open an encapsulated request. The cases map to distinct HTTP
/// answers: `unknownKeyID` means the client holds a stale configuration (422, "refetch
/// config"); `truncated` is a malformed body (400); `decryptionFailed` is deliberately
/// uninformative (400) so the gateway is no oracle for which HPKE step failed.
public enum DecapsulationError: Error, Hashable, Sendable, CustomStringConvertible, TruncationReporting {
    case unknownKeyID(UInt8)
    /// The key id exists but the header names a KEM, KDF or AEAD its configuration does not offer.
    case unsupportedSuite(keyID: UInt8, kemID: UInt16, kdfID: UInt16, aeadID: UInt16)
    case truncated(Truncation)
    case decryptionFailed

    public var description: String {
        switch self {
        case .unknownKeyID(let keyID):
            "encapsulated request names key_id \(keyID), which this gateway does not have; refetch the key configuration"
        case .unsupportedSuite(let keyID, let kem, let kdf, let aead):
            "encapsulated request for key_id \(keyID) uses KEM 0x\(hex4(kem)), KDF 0x\(hex4(kdf)), AEAD 0x\(hex4(aead)), "
                + "which that key configuration does not offer; refetch the key configuration"
        case .truncated(let truncation):
            "malformed encapsulated request: \(truncation)"
        case .decryptionFailed:
            "encapsulated request could not be decrypted"
        }
    }
}
