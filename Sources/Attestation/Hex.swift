extension Sequence<UInt8> {
    /// Lower-case hex, the form every error message and report in this library uses.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

enum Hex {
    /// Decodes hex (either case); on failure returns the offset of the first bad character, or
    /// the length when it is odd, so callers can say exactly what is wrong.
    static func decode(_ text: String) -> Result<[UInt8], HexError> {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return .failure(.oddLength(chars.count)) }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = nibble(chars[index]) else { return .failure(.invalidCharacter(offset: index)) }
            guard let low = nibble(chars[index + 1]) else { return .failure(.invalidCharacter(offset: index + 1)) }
            out.append(high << 4 | low)
            index += 2
        }
        return .success(out)
    }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

enum HexError: Error, Equatable, CustomStringConvertible {
    case oddLength(Int)
    case invalidCharacter(offset: Int)

    var description: String {
        switch self {
        case .oddLength(let count): "odd number of hex digits (\(count))"
        case .invalidCharacter(let offset): "invalid hex character at position \(offset)"
        }
    }
}
