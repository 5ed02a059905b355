/// Why a Binary HTTP message was rejected. Offsets are byte positions in the decoded input;
/// encoder errors carry no offset. Field values never appear in messages (they may be secrets).
public enum BinaryHTTPError: Error, Hashable, Sendable, CustomStringConvertible, TruncationReporting {
    case truncated(Truncation)
    case invalidFramingIndicator(UInt64)
    /// A request decoder got a response (or the reverse).
    case unexpectedMessageKind(expected: String, framingIndicator: UInt64)
    case limitExceeded(what: String, limit: Int, actual: UInt64, offset: Int)
    case invalidControlData(field: String, offset: Int?)
    case invalidStatus(UInt64, expected: ClosedRange<Int>, offset: Int?)
    case invalidFieldName(String, offset: Int?)
    case invalidFieldValue(name: String, offset: Int?)
    /// Pseudo-fields the control data replaces, or HTTP/2 connection-specific fields.
    case forbiddenField(String, offset: Int?)
    /// A pseudo-field after a regular field, or in trailers.
    case misplacedPseudoField(String, offset: Int?)
    case contentLengthMismatch(declared: String, actual: Int)
    case nonZeroPadding(offset: Int)
    case lengthNotEncodable(UInt64)

    public var description: String {
        switch self {
        case .truncated(let truncation):
            return "binary HTTP: \(truncation)"
        case .invalidFramingIndicator(let value):
            return "binary HTTP: framing indicator \(value) is not 0-3"
        case .unexpectedMessageKind(let expected, let indicator):
            return "binary HTTP: expected a \(expected), framing indicator \(indicator) is the other kind"
        case .limitExceeded(let what, let limit, let actual, let offset):
            return "binary HTTP: \(what) at offset \(offset) is \(actual), limit is \(limit)"
        case .invalidControlData(let field, let offset):
            return "binary HTTP: invalid \(field)\(at(offset)) "
                + "(method must be a token; scheme, authority and path visible ASCII)"
        case .invalidStatus(let status, let expected, let offset):
            return "binary HTTP: status \(status)\(at(offset)) is outside \(expected.lowerBound)...\(expected.upperBound)"
        case .invalidFieldName(let name, let offset):
            return "binary HTTP: invalid field name \(name.debugDescription)\(at(offset)) "
                + "(lowercase token characters required)"
        case .invalidFieldValue(let name, let offset):
            return "binary HTTP: value of \(name.debugDescription)\(at(offset)) "
                + "has NUL/CR/LF, surrounding whitespace or invalid UTF-8"
        case .forbiddenField(let name, let offset):
            return "binary HTTP: field \(name.debugDescription)\(at(offset)) "
                + "is not allowed (pseudo-header or connection-specific)"
        case .misplacedPseudoField(let name, let offset):
            return "binary HTTP: pseudo-field \(name.debugDescription)\(at(offset)) "
                + "must precede regular fields and not be a trailer"
        case .contentLengthMismatch(let declared, let actual):
            return "binary HTTP: content-length \(declared.debugDescription) does not match \(actual) content bytes"
        case .nonZeroPadding(let offset):
            return "binary HTTP: non-zero byte at offset \(offset) after the end of the message"
        case .lengthNotEncodable(let length):
            return "binary HTTP: length \(length) exceeds the varint maximum 2^62-1"
        }
    }

    private func at(_ offset: Int?) -> String {
        offset.map { " at offset \($0)" } ?? ""
    }
}
