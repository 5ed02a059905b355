import Crypto

/// What it takes to seal or open the response to one encapsulated request, and nothing more.
///
/// This is the key-service/worker split (ARCHITECTURE §5.1 `ohttpOpen`): the key-service
/// decapsulates with the private key and hands the worker this value. It holds the request's
/// encapsulated key and the two secrets exported from the request's HPKE context, one per
/// response form; with them the worker can encrypt the response, but it can decrypt no other
/// request and cannot impersonate the gateway to other clients. Both secrets are exported
/// because the key-service cannot know whether the inner handler will stream. The client side
/// derives the same value when it encapsulates.
///
/// Transport it only over the key-service socket; `description` redacts the secrets so logging
/// it by accident does not leak them.
public struct ResponseContext: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// RFC 9458 §4.4 exporter label for `message/ohttp-res`.
    public static let responseLabel = "message/bhttp response"
    /// draft-ietf-ohai-chunked-ohttp-08 exporter label for `message/ohttp-chunked-res`.
    public static let chunkedResponseLabel = "message/bhttp chunked response"

    public let suite: HPKESuite
    public let encapsulatedKey: [UInt8]
    /// Export("message/bhttp response", max(Nn, Nk)).
    public let responseSecret: [UInt8]
    /// Export("message/bhttp chunked response", max(Nn, Nk)).
    public let chunkedResponseSecret: [UInt8]

    /// Rebuilds a context received from the key-service; lengths are checked against the suite
    /// so a garbled message fails here rather than as an unexplained authentication failure.
    public init(
        suite: HPKESuite, encapsulatedKey: [UInt8], responseSecret: [UInt8], chunkedResponseSecret: [UInt8]
    ) throws(ResponseContextError) {
        let checks = [
            ("encapsulated key", suite.kem.encapsulatedKeyLength, encapsulatedKey.count),
            ("response secret", suite.responseNonceLength, responseSecret.count),
            ("chunked response secret", suite.responseNonceLength, chunkedResponseSecret.count),
        ]
        for (field, expected, actual) in checks where expected != actual {
            throw .wrongLength(field: field, expected: expected, actual: actual)
        }
        self.suite = suite
        self.encapsulatedKey = encapsulatedKey
        self.responseSecret = responseSecret
        self.chunkedResponseSecret = chunkedResponseSecret
    }

    /// Exports both secrets from a live HPKE context (`HPKE.Sender` or `HPKE.Recipient`).
    init(suite: HPKESuite, encapsulatedKey: [UInt8], export: (String, Int) throws -> SymmetricKey) rethrows {
        self.suite = suite
        self.encapsulatedKey = encapsulatedKey
        self.responseSecret = try export(Self.responseLabel, suite.responseNonceLength).bytes
        self.chunkedResponseSecret = try export(Self.chunkedResponseLabel, suite.responseNonceLength).bytes
    }

    public var description: String { "ResponseContext(\(suite), secrets redacted)" }
    public var debugDescription: String { description }
}

public enum ResponseContextError: Error, Hashable, Sendable, CustomStringConvertible {
    case wrongLength(field: String, expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .wrongLength(let field, let expected, let actual):
            "response context: \(field) must be \(expected) bytes for this suite, got \(actual)"
        }
    }
}
