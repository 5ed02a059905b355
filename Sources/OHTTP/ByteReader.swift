/// A bounds-checked cursor over untrusted bytes; every read names the field it is reading so
/// truncation errors point at the exact place the input ended.
struct ByteReader<Failure: TruncationReporting> {
    let input: [UInt8]
    private(set) var offset: Int
    /// Reads stop here; a nested structure gets a reader ending where its length prefix says
    /// it ends, while offsets stay relative to the whole input for error messages.
    let end: Int

    init(_ input: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.input = input
        self.offset = offset
        self.end = min(end ?? input.count, input.count)
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset >= end }

    mutating func uint8(_ field: String) throws(Failure) -> UInt8 {
        try bytes(1, field)[0]
    }

    mutating func uint16(_ field: String) throws(Failure) -> UInt16 {
        let pair = try bytes(2, field)
        return UInt16(pair[0]) << 8 | UInt16(pair[1])
    }

    mutating func bytes(_ count: Int, _ field: String) throws(Failure) -> [UInt8] {
        try bytes(UInt64(clamping: count), field)
    }

    /// Takes a wire-supplied length as is, so a huge length fails as truncation instead of
    /// overflowing an `Int` conversion.
    mutating func bytes(_ count: UInt64, _ field: String) throws(Failure) -> [UInt8] {
        guard count <= UInt64(remaining) else {
            throw .truncated(
                Truncation(field: field, offset: offset, needed: Int(clamping: count), available: remaining))
        }
        let end = offset + Int(count)
        defer { offset = end }
        return Array(input[offset..<end])
    }

    mutating func varint(_ field: String) throws(Failure) -> UInt64 {
        do {
            let (value, length) = try QUICVarint.decode(input[..<end], at: offset, field: field)
            offset += length
            return value
        } catch {
            throw .truncated(error)
        }
    }

    /// Consumes and returns everything left.
    mutating func rest() -> [UInt8] {
        defer { offset = end }
        return Array(input[offset..<end])
    }

    /// A reader over the next `count` bytes, which this reader skips.
    mutating func subreader(_ count: UInt64, _ field: String) throws(Failure) -> ByteReader {
        guard count <= UInt64(remaining) else {
            throw .truncated(
                Truncation(field: field, offset: offset, needed: Int(clamping: count), available: remaining))
        }
        let sub = ByteReader(input, offset: offset, end: offset + Int(count))
        offset = sub.end
        return sub
    }
}
