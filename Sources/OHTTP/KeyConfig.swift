/// One OHTTP key configuration (RFC 9458 §3.1): what a gateway publishes so clients can
/// encapsulate requests to it.
///
/// Wire form: `key_id(1) ‖ kem_id(2) ‖ public_key(Npk) ‖ u16 length ‖ (kdf_id(2) ‖ aead_id(2))*`.
/// The symmetric suites keep their raw identifiers because a configuration may list algorithms
/// this module cannot run; `supportedSuites` filters them.
public struct KeyConfig: Hashable, Sendable {
    public struct SymmetricSuite: Hashable, Sendable {
        public let kdfID: UInt16
        public let aeadID: UInt16

        public init(kdfID: UInt16, aeadID: UInt16) {
            self.kdfID = kdfID
            self.aeadID = aeadID
        }

        public init(kdf: HPKEKDF, aead: HPKEAEAD) {
            self.init(kdfID: kdf.rawValue, aeadID: aead.rawValue)
        }
    }

    /// At least one suite; at most as many as keep the whole configuration within the u16
    /// length prefix of `application/ohttp-keys` (which also bounds the u16 suite-list length).
    public static func maxSymmetricSuites(for kem: HPKEKEM) -> Int {
        (Int(UInt16.max) - 1 - 2 - kem.publicKeyLength - 2) / 4
    }

    public let keyID: UInt8
    public let kem: HPKEKEM
    public let publicKey: [UInt8]
    public let symmetricSuites: [SymmetricSuite]

    public init(
        keyID: UInt8, kem: HPKEKEM, publicKey: [UInt8], symmetricSuites: [SymmetricSuite]
    ) throws(KeyConfigError) {
        guard publicKey.count == kem.publicKeyLength else {
            throw .wrongPublicKeyLength(kem: kem, expected: kem.publicKeyLength, actual: publicKey.count)
        }
        guard (1...Self.maxSymmetricSuites(for: kem)).contains(symmetricSuites.count) else {
            throw .invalidSymmetricSuiteCount(symmetricSuites.count, maximum: Self.maxSymmetricSuites(for: kem))
        }
        self.keyID = keyID
        self.kem = kem
        self.publicKey = publicKey
        self.symmetricSuites = symmetricSuites
    }

    /// Parses exactly one configuration; trailing bytes are an error, not ignored.
    public init(decoding bytes: [UInt8]) throws(KeyConfigError) {
        var reader = ByteReader<KeyConfigError>(bytes)
        self = try Self.read(from: &reader)
        guard reader.isAtEnd else { throw .trailingBytes(offset: reader.offset, count: reader.remaining) }
    }

    static func read(from reader: inout ByteReader<KeyConfigError>) throws(KeyConfigError) -> KeyConfig {
        let keyID = try reader.uint8("key_id")
        let kemOffset = reader.offset
        let kemID = try reader.uint16("kem_id")
        guard let kem = HPKEKEM(rawValue: kemID) else { throw .unsupportedKEM(kemID, offset: kemOffset) }
        let publicKey = try reader.bytes(kem.publicKeyLength, "public key")
        let lengthOffset = reader.offset
        let suitesLength = Int(try reader.uint16("symmetric algorithms length"))
        guard suitesLength >= 4, suitesLength % 4 == 0 else {
            throw .invalidSymmetricSuitesLength(suitesLength, offset: lengthOffset)
        }
        var suites: [SymmetricSuite] = []
        for _ in 0..<suitesLength / 4 {
            let kdfID = try reader.uint16("kdf_id")
            suites.append(SymmetricSuite(kdfID: kdfID, aeadID: try reader.uint16("aead_id")))
        }
        return try KeyConfig(keyID: keyID, kem: kem, publicKey: publicKey, symmetricSuites: suites)
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = [keyID]
        out.appendUInt16(kem.rawValue)
        out += publicKey
        out.appendUInt16(UInt16(symmetricSuites.count * 4))
        for suite in symmetricSuites {
            out.appendUInt16(suite.kdfID)
            out.appendUInt16(suite.aeadID)
        }
        return out
    }

    /// The suites this module can run, in the order the gateway listed them (its preference).
    public var supportedSuites: [HPKESuite] {
        symmetricSuites.compactMap { suite in
            guard let kdf = HPKEKDF(rawValue: suite.kdfID), let aead = HPKEAEAD(rawValue: suite.aeadID) else {
                return nil
            }
            return HPKESuite(kem: kem, kdf: kdf, aead: aead)
        }
    }
}

public enum KeyConfigError: Error, Hashable, Sendable, CustomStringConvertible, TruncationReporting {
    case truncated(Truncation)
    case unsupportedKEM(UInt16, offset: Int)
    case invalidSymmetricSuitesLength(Int, offset: Int)
    case invalidSymmetricSuiteCount(Int, maximum: Int)
    case wrongPublicKeyLength(kem: HPKEKEM, expected: Int, actual: Int)
    case trailingBytes(offset: Int, count: Int)
    case emptyList

    public var description: String {
        switch self {
        case .truncated(let truncation):
            "key configuration: \(truncation)"
        case .unsupportedKEM(let id, let offset):
            "key configuration: unsupported KEM 0x\(hex4(id)) at offset \(offset) (supported: "
                + HPKEKEM.allCases.map { "0x" + hex4($0.rawValue) }.joined(separator: ", ") + ")"
        case .invalidSymmetricSuitesLength(let length, let offset):
            "key configuration: symmetric algorithms length \(length) at offset \(offset) must be a positive multiple of 4"
        case .invalidSymmetricSuiteCount(let count, let maximum):
            "key configuration: \(count) symmetric suites given, need 1...\(maximum)"
        case .wrongPublicKeyLength(let kem, let expected, let actual):
            "key configuration: public key for KEM 0x\(hex4(kem.rawValue)) must be \(expected) bytes, got \(actual)"
        case .trailingBytes(let offset, let count):
            "key configuration: \(count) unexpected byte(s) after the configuration at offset \(offset)"
        case .emptyList:
            "application/ohttp-keys: no key configuration this client supports"
        }
    }
}

extension [UInt8] {
    mutating func appendUInt16(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }
}
