/// Lowercase hex, the only spelling the signing contract emits.
public enum Hex {
    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        case oddLength(Int)
        case invalidCharacter(Character, offset: Int)

        public var description: String {
            switch self {
            case .oddLength(let n): "hex string has an odd number of digits (\(n))"
            case .invalidCharacter(let c, let offset): "invalid hex digit \(c.debugDescription) at offset \(offset)"
            }
        }
    }

    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes upper- or lowercase hex; a leading `0x`/`0X` is accepted because half the ecosystem
    /// writes one (`tee_id`) and half does not (`tee_request_hash`).
    public static func decode(_ text: some StringProtocol) throws(DecodingError) -> [UInt8] {
        var utf8 = Array(text.utf8)
        var base = 0
        if utf8.count >= 2, utf8[0] == UInt8(ascii: "0"), utf8[1] | 0x20 == UInt8(ascii: "x") {
            utf8.removeFirst(2)
            base = 2
        }
        guard utf8.count % 2 == 0 else { throw .oddLength(utf8.count) }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = value(utf8[i]) else { throw .invalidCharacter(Character(Unicode.Scalar(utf8[i])), offset: base + i) }
            guard let lo = value(utf8[i + 1]) else {
                throw .invalidCharacter(Character(Unicode.Scalar(utf8[i + 1])), offset: base + i + 1)
            }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
