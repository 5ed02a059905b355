/// Strict RFC 8949 decoder for exactly one top-level data item.
///
/// Indefinite lengths are supported in full (RFC 8949 §3.2) because current NSM firmware
/// sends the attestation payload as an indefinite-length map (`0xbf … 0xff`); they count
/// against the same limits as definite ones. Duplicate map keys are rejected because two
/// parsers that pick different duplicates would disagree on what a signed document says.
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
        let length: UInt64? = info == 31 ? nil : try readArgument(info: info, start: start)

        switch major {
        case 0, 1, 6:
            guard let argument = length else {
                throw .indefiniteLengthNotAllowed(what: Self.majorName(major), offset: start)
            }
            if major == 0 { return .unsigned(argument) }
            if major == 1 { return .negative(argument) }
            return .tagged(argument, try readItem(depth: depth + 1))
        case 2:
            return .bytes(try readString(major: 2, length: length, start: start))
        case 3:
            let raw = try readString(major: 3, length: length, start: start)
            guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
            return .text(text)
        case 4:
            var elements: [CBOR] = []
            try readElements(length: length, what: "array", start: start) { reader throws(CBORError) in
                elements.append(try reader.readItem(depth: depth + 1))
            }
            return .array(elements)
        default:  // 5: the only major type left after 0-4, 6 and 7
            var entries: [CBORMapEntry] = []
            var seen = Set<CBOR>()
            try readElements(length: length, what: "map", start: start) { reader throws(CBORError) in
                let keyOffset = reader.offset
                let key = try reader.readItem(depth: depth + 1)
                guard seen.insert(key).inserted else { throw .duplicateMapKey(offset: keyOffset) }
                entries.append(CBORMapEntry(key, try reader.readItem(depth: depth + 1)))
            }
            return .map(entries)
        }
    }

    /// Calls `readOne` `length` times, or until a break byte when the length is indefinite.
    private mutating func readElements(
        length: UInt64?, what: String, start: Int, _ readOne: (inout Reader) throws(CBORError) -> Void
    ) throws(CBORError) {
        if let length {
            for _ in 0..<(try checkedLength(length, what: what, start: start)) { try readOne(&self) }
            return
        }
        var count = 0
        while try !consumeBreak(what: "indefinite-length \(what)", start: start) {
            count += 1
            _ = try checkedLength(UInt64(count), what: what, start: start)
            try readOne(&self)
        }
    }

    /// True (and consumes it) when the next byte is a break; a missing break is truncation.
    private mutating func consumeBreak(what: String, start: Int) throws(CBORError) -> Bool {
        guard offset < bytes.count else { throw .truncated(what: what, offset: start, needed: 1, available: 0) }
        guard bytes[offset] == 0xff else { return false }
        offset += 1
        return true
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

    /// A definite string, or the concatenated chunks of an indefinite one; each chunk must be a
    /// definite string of the same major type (RFC 8949 §3.2.3).
    private mutating func readString(major: UInt8, length: UInt64?, start: Int) throws(CBORError) -> [UInt8] {
        let what = major == 2 ? "byte string" : "text string"
        if let length { return try readChunk(length: length, what: what, start: start) }
        var joined: [UInt8] = []
        while try !consumeBreak(what: "indefinite-length \(what)", start: start) {
            let chunkStart = offset
            items += 1
            guard items <= limits.maxItems else { throw .itemLimitExceeded(limit: limits.maxItems, offset: chunkStart) }
            let initial = bytes[offset]
            offset += 1
            guard initial >> 5 == major, initial & 0x1f != 31 else {
                throw .invalidChunk(what: what, offset: chunkStart)
            }
            let chunkLength = try readArgument(info: initial & 0x1f, start: chunkStart)
            let chunk = try readChunk(length: chunkLength, what: what, start: chunkStart)
            if major == 3, String(validating: chunk, as: UTF8.self) == nil { throw .invalidUTF8(offset: chunkStart) }
            joined += chunk
            _ = try checkedLength(UInt64(joined.count), what: what, start: start)
        }
        return joined
    }

    private mutating func readChunk(length: UInt64, what: String, start: Int) throws(CBORError) -> [UInt8] {
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
        case 0: "unsigned integer"
        case 1: "negative integer"
        default: "tag"
        }
    }
}
