import GatewayCore

/// The enclave's signing identity: what `/signing-key` serves and what attestation binds.
public struct PublicKeyInfo: Hashable, Sendable {
    public let spkiDER: [UInt8]
    public let pem: String
    /// keccak-256 of `spkiDER`.
    public let teeID: TEEID

    public init(spkiDER: [UInt8], pem: String, teeID: TEEID) {
        self.spkiDER = spkiDER
        self.pem = pem
        self.teeID = teeID
    }

    static let fields: Set<String> = ["spkiDER", "pem", "teeID"]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        self.init(
            spkiDER: try reader.bytes("spkiDER", length: Limits.spkiDER),
            pem: try reader.string("pem", maximumBytes: Limits.pemBytes),
            teeID: try reader.teeID("teeID")
        )
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(bytes: spkiDER, "spkiDER")
        try writer.write(pem, "pem")
        try writer.write(bytes: teeID.digest.bytes, "teeID")
    }
}

// `signInference` answers with GatewayCore's `TEESignature`: all five `tee_*` values, so the
// worker attaches exactly what was signed. `timestamp` (Unix seconds) comes from the key
// service's clock and is part of the signed preimage; callers must echo it, not their own clock.
extension TEESignature {
    static let wireFields: Set<String> = ["requestHash", "outputHash", "timestamp", "signature", "teeID"]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        self.init(
            requestHash: try reader.keccak("requestHash"),
            outputHash: try reader.keccak("outputHash"),
            timestamp: try reader.integer("timestamp"),
            signature: try reader.bytes("signature", length: Limits.signature),
            teeID: try reader.teeID("teeID")
        )
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(bytes: requestHash.bytes, "requestHash")
        try writer.write(bytes: outputHash.bytes, "outputHash")
        try writer.write(timestamp, "timestamp")
        try writer.write(bytes: signature, "signature")
        try writer.write(bytes: teeID.digest.bytes, "teeID")
    }
}

/// A signature over a `SignableRecord`, with the hash that was signed (served as
/// `signature_hash` next to the record).
public struct RecordSignature: Hashable, Sendable {
    public let messageHash: Keccak256Digest
    public let signature: [UInt8]

    public init(messageHash: Keccak256Digest, signature: [UInt8]) {
        self.messageHash = messageHash
        self.signature = signature
    }

    static let fields: Set<String> = ["messageHash", "signature"]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        self.init(
            messageHash: try reader.keccak("messageHash"),
            signature: try reader.bytes("signature", length: Limits.signature)
        )
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(bytes: messageHash.bytes, "messageHash")
        try writer.write(bytes: signature, "signature")
    }
}
