/// Why CBOR input was rejected; every case carries the byte offset where decoding stopped.
public enum CBORError: Error, Equatable, CustomStringConvertible {
    case truncated(what: String, offset: Int, needed: Int, available: Int)
    case reservedAdditionalInfo(Int, offset: Int)
    case indefiniteLengthNotAllowed(what: String, offset: Int)
    case unexpectedBreak(offset: Int)
    case invalidChunk(what: String, offset: Int)
    case unsupportedSimpleValue(UInt64, offset: Int)
    case floatNotSupported(offset: Int)
    case invalidUTF8(offset: Int)
    case duplicateMapKey(offset: Int)
    case depthLimitExceeded(limit: Int, offset: Int)
    case itemLimitExceeded(limit: Int, offset: Int)
    case lengthLimitExceeded(what: String, length: UInt64, limit: Int, offset: Int)
    case totalSizeLimitExceeded(size: Int, limit: Int)
    case trailingBytes(offset: Int, count: Int)

    public var description: String {
        switch self {
        case .truncated(let what, let offset, let needed, let available):
            "truncated \(what) at offset \(offset): need \(needed) bytes, \(available) left"
        case .reservedAdditionalInfo(let info, let offset):
            "reserved additional information \(info) at offset \(offset)"
        case .indefiniteLengthNotAllowed(let what, let offset):
            "\(what) at offset \(offset) uses additional information 31, which is only valid for strings, arrays and maps"
        case .unexpectedBreak(let offset):
            "unexpected break (0xff) at offset \(offset)"
        case .invalidChunk(let what, let offset):
            "chunk at offset \(offset) of an indefinite-length \(what) is not a definite \(what)"
        case .unsupportedSimpleValue(let value, let offset):
            "unsupported simple value \(value) at offset \(offset) (only false, true, null, undefined)"
        case .floatNotSupported(let offset):
            "floating-point value at offset \(offset) is not supported"
        case .invalidUTF8(let offset):
            "text string at offset \(offset) is not valid UTF-8"
        case .duplicateMapKey(let offset):
            "duplicate map key at offset \(offset)"
        case .depthLimitExceeded(let limit, let offset):
            "nesting deeper than \(limit) at offset \(offset)"
        case .itemLimitExceeded(let limit, let offset):
            "more than \(limit) data items (at offset \(offset))"
        case .lengthLimitExceeded(let what, let length, let limit, let offset):
            "\(what) at offset \(offset) has length \(length), limit is \(limit)"
        case .totalSizeLimitExceeded(let size, let limit):
            "input is \(size) bytes, limit is \(limit)"
        case .trailingBytes(let offset, let count):
            "\(count) trailing bytes after the top-level item at offset \(offset)"
        }
    }
}
