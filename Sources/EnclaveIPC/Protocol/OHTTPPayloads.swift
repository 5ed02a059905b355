/// One OHTTP key configuration as RFC 9458 §3 describes it, with its encoding.
public struct OHTTPKeyConfig: Hashable, Sendable {
    public let keyID: UInt8
    public let kemID: UInt16
    public let kdfID: UInt16
    public let aeadID: UInt16
    public let publicKey: [UInt8]
    /// The `application/ohttp-keys` encoding of this config (what `keccak(key_config)` hashes).
    public let keyConfig: [UInt8]

    public init(keyID: UInt8, kemID: UInt16, kdfID: UInt16, aeadID: UInt16, publicKey: [UInt8], keyConfig: [UInt8]) {
        self.keyID = keyID
        self.kemID = kemID
        self.kdfID = kdfID
        self.aeadID = aeadID
        self.publicKey = publicKey
        self.keyConfig = keyConfig
    }

    static let fields: Set<String> = ["keyID", "kemID", "kdfID", "aeadID", "publicKey", "keyConfig"]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        self.init(
            keyID: try reader.integer("keyID"),
            kemID: try reader.integer("kemID"),
            kdfID: try reader.integer("kdfID"),
            aeadID: try reader.integer("aeadID"),
            publicKey: try reader.bytes("publicKey", length: Limits.ohttpPublicKey),
            keyConfig: try reader.bytes("keyConfig", length: Limits.ohttpKeyConfig)
        )
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(keyID, "keyID")
        try writer.write(kemID, "kemID")
        try writer.write(kdfID, "kdfID")
        try writer.write(aeadID, "aeadID")
        try writer.write(bytes: publicKey, "publicKey")
        try writer.write(bytes: keyConfig, "keyConfig")
    }
}

/// The result of HPKE decapsulation in the key service. The worker gets the plaintext and
/// only the exporter secrets it needs to seal the response (RFC 9458 §4.4: the secret exported
/// with "message/bhttp response", and for chunked OHTTP the one exported with
/// "message/bhttp chunked response"); the HPKE private key never leaves the key service.
///
/// `description` redacts the plaintext and secrets, so logging this value leaks neither the
/// prompt nor key material.
public struct OpenedOHTTPRequest: Hashable, Sendable, CustomStringConvertible {
    public let plaintext: [UInt8]
    /// The request's `enc`, part of the response key derivation salt.
    public let encapsulatedKey: [UInt8]
    /// The suite the request named; the worker needs it to rebuild the `ResponseContext`.
    public let kemID: UInt16
    public let kdfID: UInt16
    public let aeadID: UInt16
    public let responseSecret: [UInt8]
    public let chunkedResponseSecret: [UInt8]

    public init(
        plaintext: [UInt8],
        encapsulatedKey: [UInt8],
        kemID: UInt16,
        kdfID: UInt16,
        aeadID: UInt16,
        responseSecret: [UInt8],
        chunkedResponseSecret: [UInt8]
    ) {
        self.plaintext = plaintext
        self.encapsulatedKey = encapsulatedKey
        self.kemID = kemID
        self.kdfID = kdfID
        self.aeadID = aeadID
        self.responseSecret = responseSecret
        self.chunkedResponseSecret = chunkedResponseSecret
    }

    public var description: String {
        "OpenedOHTTPRequest(plaintext: \(plaintext.count) bytes, kemID: \(kemID), kdfID: \(kdfID), aeadID: \(aeadID), secrets redacted)"
    }

    static let fields: Set<String> = [
        "plaintext", "encapsulatedKey", "kemID", "kdfID", "aeadID", "responseSecret", "chunkedResponseSecret",
    ]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        self.init(
            plaintext: try reader.bytes("plaintext", length: Limits.ohttpPlaintext),
            encapsulatedKey: try reader.bytes("encapsulatedKey", length: Limits.ohttpEncapsulatedKey),
            kemID: try reader.integer("kemID"),
            kdfID: try reader.integer("kdfID"),
            aeadID: try reader.integer("aeadID"),
            responseSecret: try reader.bytes("responseSecret", length: Limits.ohttpSecret),
            chunkedResponseSecret: try reader.bytes("chunkedResponseSecret", length: Limits.ohttpSecret)
        )
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(bytes: plaintext, "plaintext")
        try writer.write(bytes: encapsulatedKey, "encapsulatedKey")
        try writer.write(kemID, "kemID")
        try writer.write(kdfID, "kdfID")
        try writer.write(aeadID, "aeadID")
        try writer.write(bytes: responseSecret, "responseSecret")
        try writer.write(bytes: chunkedResponseSecret, "chunkedResponseSecret")
    }
}
