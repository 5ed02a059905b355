/// Strict RFC 8949 decoder for exactly one top-level data item.
///
/// Definite lengths only: NSM never emits indefinite-length items, and accepting them would
/// widen the attack surface for nothing. Duplicate map keys are rejected because two parsers
/// that pick different duplicates would disagree on what a signed document says.
public enum CBORDecoder {
    public static func decode(_ bytes: [UInt8], limits: CBORLimits = CBORLimits()) throws(CBORError) -> CBOR {
        guard bytes.count <= limits.maxTotalSize else {
            throw .totalSizeLimitExceeded(size: bytes.count, limit: limits.maxTotalSize)
        }
        var reader = Reader(bytes: bytes, limits: limits)
        let item = try reader.readItem(depth: 0)
        guard reader.offset == bytes.count else {
            throw .trailingBytes(offset: reader.offset, count: bytes.count - reader.offset)
        }
        return item
    }
}

private struct Reader {
    let bytes: [UInt8]
    let limits: CBORLimits
    var offset = 0
    var items = 0

    init(bytes: [UInt8], limits: CBORLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    mutating func readItem(depth: Int) throws(CBORError) -> CBOR {
        let start = offset
        guard depth <= limits.maxDepth else { throw .depthLimitExceeded(limit: limits.maxDepth, offset: start) }
        items += 1
        guard items <= limits.maxItems else { throw .itemLimitExceeded(limit: limits.maxItems, offset: start) }
        guard offset < bytes.count else { throw .truncated(what: "data item", offset: start, needed: 1, available: 0) }

        let initial = bytes[offset]
        let major = initial >> 5
        let info = initial & 0x1f
        offset += 1

        if major == 7 { return try readSimple(info: info, start: start) }
        guard info != 31 else { throw .indefiniteLength(what: Self.majorName(major), offset: start) }
        let argument = try readArgument(info: info, start: start)

        switch major {
        case 0: return .unsigned(argument)
        case 1: return .negative(argument)
        case 2: return .bytes(try readString(length: argument, what: "byte string", start: start))
        case 3:
            let raw = try readString(length: argument, what: "text string", start: start)
            guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
            return .text(text)
        case 4:
            let count = try checkedLength(argument, what: "array", start: start)
            var elements: [CBOR] = []
            for _ in 0..<count { elements.append(try readItem(depth: depth + 1)) }
            return .array(elements)
        case 5:
            let count = try checkedLength(argument, what: "map", start: start)
            var entries: [CBORMapEntry] = []
            var seen = Set<CBOR>()
            for _ in 0..<count {
                let keyOffset = offset
                let key = try readItem(depth: depth + 1)
                guard seen.insert(key).inserted else { throw .duplicateMapKey(offset: keyOffset) }
                entries.append(CBORMapEntry(key, try readItem(depth: depth + 1)))
            }
            return .map(entries)
        default:  // 6: the only major type left after 0-5 and 7
            return .tagged(argument, try readItem(depth: depth + 1))
        }
    }

    private mutating func readSimple(info: UInt8, start: Int) throws(CBORError) -> CBOR {
        switch info {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 23: return .undefined
        case 24:
            let value = try readArgument(info: info, start: start)
            throw .unsupportedSimpleValue(value, offset: start)
        case 25, 26, 27: throw .floatNotSupported(offset: start)
        case 28, 29, 30: throw .reservedAdditionalInfo(Int(info), offset: start)
        case 31: throw .unexpectedBreak(offset: start)
        default: throw .unsupportedSimpleValue(UInt64(info), offset: start)
        }
    }

    private mutating func readArgument(info: UInt8, start: Int) throws(CBORError) -> UInt64 {
        let width: Int
        switch info {
        case 0..<24: return UInt64(info)
        case 24: width = 1
        case 25: width = 2
        case 26: width = 4
        case 27: width = 8
        default: throw .reservedAdditionalInfo(Int(info), offset: start)
        }
        let available = bytes.count - offset
        guard available >= width else {
            throw .truncated(what: "header", offset: start, needed: width, available: available)
        }
        var value: UInt64 = 0
        for byte in bytes[offset..<offset + width] { value = value << 8 | UInt64(byte) }
        offset += width
        return value
    }

    private func checkedLength(_ length: UInt64, what: String, start: Int) throws(CBORError) -> Int {
        guard length <= UInt64(limits.maxLength) else {
            throw .lengthLimitExceeded(what: what, length: length, limit: limits.maxLength, offset: start)
        }
        return Int(length)
    }

    private mutating func readString(length: UInt64, what: String, start: Int) throws(CBORError) -> [UInt8] {
        let count = try checkedLength(length, what: what, start: start)
        let available = bytes.count - offset
        guard available >= count else {
            throw .truncated(what: what, offset: start, needed: count, available: available)
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    private static func majorName(_ major: UInt8) -> String {
        switch major {
        case 2: "byte string"
        case 3: "text string"
        case 4: "array"
        case 5: "map"
        default: "item of major type \(major)"
        }
    }
}
