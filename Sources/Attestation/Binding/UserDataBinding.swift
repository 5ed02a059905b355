import GatewayCore
import Crypto

/// The `user_data` that ties an attestation to the keys the gateway presents: a sequence of
/// SHA-256 multihashes (`0x12 0x20 ‖ digest`), in this order:
///
/// 0. the TLS certificate tls-front serves (DER),
/// 1. the RSA signing key `/signing-key` returns (SubjectPublicKeyInfo DER),
/// 2. the OHTTP key configs (`application/ohttp-keys` encoding).
///
/// The first two entries are laid out as nitriding does, so parsing accepts a two-entry value
/// from a nitriding enclave; it then simply has no OHTTP binding.
public struct UserDataBinding: Sendable, Equatable {
    public enum Entry: Int, CaseIterable, Sendable {
        case tlsCertificate = 0
        case signingKey = 1
        case ohttpKeys = 2

        public var name: String {
            switch self {
            case .tlsCertificate: "TLS certificate"
            case .signingKey: "signing key"
            case .ohttpKeys: "OHTTP key configs"
            }
        }
    }

    static let multihashPrefix: [UInt8] = [0x12, 0x20]
    static let entrySize = 34

    /// SHA-256 digests in entry order; two or three of them.
    public let hashes: [[UInt8]]

    public init(tlsCertificateDER: [UInt8], signingKeySPKIDER: [UInt8], ohttpKeyConfigs: [UInt8]) {
        hashes = [tlsCertificateDER, signingKeySPKIDER, ohttpKeyConfigs].map(Self.digest)
    }

    public init(parsing userData: [UInt8]) throws(UserDataBindingError) {
        guard userData.count % Self.entrySize == 0, (2...3).contains(userData.count / Self.entrySize) else {
            throw .wrongSize(userData.count)
        }
        var hashes: [[UInt8]] = []
        for start in stride(from: 0, to: userData.count, by: Self.entrySize) {
            let prefix = Array(userData[start..<start + 2])
            guard prefix == Self.multihashPrefix else {
                throw .notSHA256Multihash(entry: hashes.count, offset: start, prefix: Hex.encode(prefix))
            }
            hashes.append(Array(userData[start + 2..<start + Self.entrySize]))
        }
        self.hashes = hashes
    }

    public func encoded() -> [UInt8] { hashes.flatMap { Self.multihashPrefix + $0 } }

    /// The bound digest for `entry`, or nil when the value has no such entry (nitriding layout).
    public func hash(of entry: Entry) -> [UInt8]? {
        hashes.indices.contains(entry.rawValue) ? hashes[entry.rawValue] : nil
    }

    public static func digest(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
}

public enum UserDataBindingError: Error, Equatable, CustomStringConvertible {
    case wrongSize(Int)
    case notSHA256Multihash(entry: Int, offset: Int, prefix: String)

    public var description: String {
        switch self {
        case .wrongSize(let count):
            "user_data is \(count) bytes; a binding is 2 or 3 SHA-256 multihashes of 34 bytes (68 or 102)"
        case .notSHA256Multihash(let entry, let offset, let prefix):
            "user_data entry \(entry) at offset \(offset) starts with \(prefix), not 1220 (SHA-256 multihash)"
        }
    }
}
