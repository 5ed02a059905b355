/// Byte limits of the variable-length protocol fields. They are far above real sizes (an
/// RSA-2048 SPKI is 294 bytes, an NSM document about 5 KiB) and exist so a decoder never
/// accepts an unbounded field from a confused or hostile peer.
enum Limits {
    static let spkiDER = 1...4096
    static let pemBytes = 8192
    static let signature = 1...1024
    static let attestationDocument = 1...32768
    /// Encapsulated requests above 512 KiB are refused before they reach the key service.
    static let encapsulatedRequest = 1...(512 * 1024)
    static let ohttpPlaintext = 0...(512 * 1024)
    static let ohttpPublicKey = 1...2048
    static let ohttpKeyConfig = 1...4096
    static let ohttpEncapsulatedKey = 1...2048
    static let ohttpSecret = 1...64
    static let ohttpConfigCount = 16
    static let injectionEnvelope = 1...(64 * 1024)
    static let providerCount = 32
    static let providerNameBytes = 1...64
    static let apiKeyBytes = 1...4096
}
