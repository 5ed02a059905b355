/// A key-service message that is not valid JSON or breaks the schema. Decoding is strict: an
/// unknown `type`, an unknown or missing field, a wrong JSON type or a wrong byte length is an
/// error, so a peer built against another protocol version fails loudly instead of half-working.
public struct KeyServiceProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Problem: Hashable, Sendable {
        case notJSON(String)
        case notAnObject
        case missingField(String)
        case unknownField(String)
        case wrongType(field: String, expected: String)
        case unknownType(String)
        case invalidBase64(field: String)
        case invalidLength(field: String, expected: ClosedRange<Int>, actual: Int)
        case invalidValue(field: String, reason: String)
    }

    /// The message id, when it could be read before the problem was found; the server answers
    /// such requests with a typed `malformed` error under this id instead of dropping them.
    public let id: UInt64?
    public let problem: Problem

    public init(id: UInt64? = nil, _ problem: Problem) {
        self.id = id
        self.problem = problem
    }

    public var description: String {
        let prefix = id.map { "message \($0): " } ?? ""
        switch problem {
        case .notJSON(let detail):
            return prefix + "not valid JSON: \(detail)"
        case .notAnObject:
            return prefix + "expected a JSON object"
        case .missingField(let field):
            return prefix + "missing field '\(field)'"
        case .unknownField(let field):
            return prefix + "unknown field '\(field)'"
        case .wrongType(let field, let expected):
            return prefix + "field '\(field)' must be \(expected)"
        case .unknownType(let type):
            return prefix + "unknown message type '\(type)'"
        case .invalidBase64(let field):
            return prefix + "field '\(field)' is not valid padded base64"
        case .invalidLength(let field, let expected, let actual):
            let range = expected.count == 1 ? "\(expected.lowerBound)" : "\(expected.lowerBound)...\(expected.upperBound)"
            return prefix + "field '\(field)' must be \(range) bytes, got \(actual)"
        case .invalidValue(let field, let reason):
            return prefix + "field '\(field)' is invalid: \(reason)"
        }
    }
}
