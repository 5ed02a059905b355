/// Input ended before a field the wire format requires.
///
/// Shared by every parser in this module so callers see one shape for "too short": the field
/// that was being read, where it started and how many bytes it needed.
public struct Truncation: Error, Hashable, Sendable, CustomStringConvertible {
    public let field: String
    public let offset: Int
    public let needed: Int
    public let available: Int

    public init(field: String, offset: Int, needed: Int, available: Int) {
        self.field = field
        self.offset = offset
        self.needed = needed
        self.available = available
    }

    public var description: String {
        "input truncated reading \(field) at offset \(offset): need \(needed) byte(s), \(available) available"
    }
}

/// An error type a `ByteReader` can report truncation through.
protocol TruncationReporting: Error {
    static func truncated(_ truncation: Truncation) -> Self
}
