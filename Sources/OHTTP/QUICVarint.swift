/// QUIC variable-length integers (RFC 9000 §16), used by Binary HTTP and chunked OHTTP framing.
///
/// The two high bits of the first byte give the length (1, 2, 4 or 8 bytes). Encoding always
/// picks the shortest form; decoding accepts any form, as RFC 9000 allows.
public enum QUICVarint {
    /// The largest encodable value, 2^62 - 1.
    public static let maxValue: UInt64 = (1 << 62) - 1

    /// A value above `QUICVarint.maxValue` was given to the encoder.
    public struct ValueTooLarge: Error, Hashable, Sendable, CustomStringConvertible {
        public let value: UInt64
        public var description: String {
            "value \(value) exceeds the QUIC varint maximum \(QUICVarint.maxValue) (2^62-1)"
        }
    }

    public static func encode(_ value: UInt64) throws(ValueTooLarge) -> [UInt8] {
        var out: [UInt8] = []
        try append(value, to: &out)
        return out
    }

    static func append(_ value: UInt64, to out: inout [UInt8]) throws(ValueTooLarge) {
        let (length, prefix): (Int, UInt8) =
            switch value {
            case 0..<(1 << 6): (1, 0x00)
            case 0..<(1 << 14): (2, 0x40)
            case 0..<(1 << 30): (4, 0x80)
            case 0...maxValue: (8, 0xC0)
            default: throw ValueTooLarge(value: value)
            }
        for index in 0..<length {
            let shift = UInt64(8 * (length - 1 - index))
            out.append(UInt8(truncatingIfNeeded: value >> shift))
        }
        out[out.count - length] |= prefix
    }

    /// Decodes the varint starting at `offset`, returning its value and encoded length.
    ///
    /// `field` names what the integer means so a truncation error says what was being read.
    public static func decode(
        _ bytes: [UInt8], at offset: Int, field: String = "varint"
    ) throws(Truncation) -> (value: UInt64, length: Int) {
        try decode(bytes[...], at: offset, field: field)
    }

    /// Slice form: `offset` is an index of `bytes`, and the slice end bounds the read.
    static func decode(
        _ bytes: ArraySlice<UInt8>, at offset: Int, field: String
    ) throws(Truncation) -> (value: UInt64, length: Int) {
        let available = max(0, bytes.endIndex - offset)
        guard offset >= bytes.startIndex, available >= 1 else {
            throw Truncation(field: field, offset: offset, needed: 1, available: available)
        }
        let length = 1 << Int(bytes[offset] >> 6)
        guard available >= length else {
            throw Truncation(field: field, offset: offset, needed: length, available: available)
        }
        var value = UInt64(bytes[offset] & 0x3F)
        for index in 1..<length {
            value = value << 8 | UInt64(bytes[offset + index])
        }
        return (value, length)
    }
}
