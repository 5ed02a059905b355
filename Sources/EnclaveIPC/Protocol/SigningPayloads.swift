/// The enclave's signing identity: what `/signing-key` serves and what attestation binds.
public struct PublicKeyInfo: Hashable, Sendable {
    public let spkiDER: [UInt8]
    public let pem: String
    /// keccak-256 of `spkiDER`.
    public let teeID: Digest32

    public init(spkiDER: [UInt8], pem: String, teeID: Digest32) {
        self.spkiDER = spkiDER
        self.pem = pem
        self.teeID = teeID
    }

    static let fields: Set<String> = ["spkiDER", "pem", "teeID"]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        self.init(
            spkiDER: try reader.bytes("spkiDER", length: Limits.spkiDER),
            pem: try reader.string("pem", maximumBytes: Limits.pemBytes),
            teeID: try reader.digest("teeID")
        )
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(bytes: spkiDER, "spkiDER")
        try writer.write(pem, "pem")
        try writer.write(bytes: teeID.bytes, "teeID")
    }
}

/// A signature over an inference result. `timestamp` (Unix seconds) comes from the key
/// service's clock and is part of the signed preimage, so callers must echo this value rather
/// than their own clock.
public struct InferenceSignature: Hashable, Sendable {
    public let timestamp: UInt64
    public let signature: [UInt8]

    public init(timestamp: UInt64, signature: [UInt8]) {
        self.timestamp = timestamp
        self.signature = signature
    }

    static let fields: Set<String> = ["timestamp", "signature"]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        self.init(
            timestamp: try reader.integer("timestamp"),
            signature: try reader.bytes("signature", length: Limits.signature)
        )
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(timestamp, "timestamp")
        try writer.write(bytes: signature, "signature")
    }
}

/// A signature over a `SignableRecord`, with the hash that was signed (served as
/// `signature_hash` next to the record).
public struct RecordSignature: Hashable, Sendable {
    public let messageHash: Digest32
    public let signature: [UInt8]

    public init(messageHash: Digest32, signature: [UInt8]) {
        self.messageHash = messageHash
        self.signature = signature
    }

    static let fields: Set<String> = ["messageHash", "signature"]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        self.init(
            messageHash: try reader.digest("messageHash"),
            signature: try reader.bytes("signature", length: Limits.signature)
        )
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(bytes: messageHash.bytes, "messageHash")
        try writer.write(bytes: signature, "signature")
    }
}
