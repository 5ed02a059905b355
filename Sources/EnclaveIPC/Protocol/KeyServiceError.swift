/// A refusal or failure reported by the key service, sent to the caller as a typed error
/// response. The message is shown to operators and may reach HTTP clients, so it must never
/// contain key material, secrets or request content.
public struct KeyServiceError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, CaseIterable, Hashable, Sendable {
        /// The request or envelope could not be parsed or failed validation.
        case malformed
        /// An injection envelope's operator signature does not verify.
        case unauthorized
        /// The peer's uid or class may not call this operation.
        case forbidden
        /// An injection envelope reuses a counter that was already accepted.
        case replay
        /// An OHTTP request names a key id the key service does not hold (clients refetch config).
        case unknownKeyID
        /// The key service cannot serve this yet (still booting, or no provider secrets).
        case notReady
        /// Anything else; details stay in the key service's log.
        case internalError

        /// The status a front end answers with: `malformed` 400, `unauthorized` 401,
        /// `forbidden` 403, `replay` 409, `unknownKeyID` 422, `notReady` 503, `internalError` 500.
        public var httpStatus: Int {
            switch self {
            case .malformed: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .replay: 409
            case .unknownKeyID: 422
            case .notReady: 503
            case .internalError: 500
            }
        }
    }

    /// Error messages are short operator-facing sentences; longer ones are refused on decode.
    public static let maximumMessageBytes = 1024

    public let code: Code
    public let message: String

    /// Messages longer than `maximumMessageBytes` are cut at a character boundary.
    public init(_ code: Code, _ message: String) {
        self.code = code
        var bytes = 0
        let kept = message.unicodeScalars.prefix { scalar in
            bytes += UTF8.width(scalar)
            return bytes <= Self.maximumMessageBytes
        }
        self.message = String(String.UnicodeScalarView(kept))
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
