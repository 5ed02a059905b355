/// Serializes ``JSONValue``s in the layouts the gateway needs, all from one code path.
public enum JSONWriter {
    public enum Style: Sendable {
        /// `json.dumps(x, sort_keys=True)`: the signing contract's canonical form. Keys sorted by
        /// code point, `", "`/`": "` separators, ASCII-only output with lowercase `\uXXXX`
        /// escapes (astral characters as surrogate pairs), Python float repr.
        case canonical
        /// `json.dumps(x)`: like ``canonical`` but in member order. Upstream produces tool-call
        /// `arguments` this way.
        case python
        /// Compact UTF-8 for the wire (`{"a":1}`), member order, only the escapes JSON requires.
        case compact

        var sortsKeys: Bool { self == .canonical }
        var asciiOnly: Bool { self != .compact }
        var itemSeparator: [UInt8] { self == .compact ? [0x2C] : [0x2C, 0x20] }
        var keySeparator: [UInt8] { self == .compact ? [0x3A] : [0x3A, 0x20] }
    }

    public static func serialize(_ value: JSONValue, style: Style) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(256)
        write(value, style: style, into: &out)
        return out
    }

    public static func string(_ value: JSONValue, style: Style) -> String {
        String(decoding: serialize(value, style: style), as: UTF8.self)
    }

    public static func write(_ value: JSONValue, style: Style, into out: inout [UInt8]) {
        switch value {
        case .null: out += [0x6E, 0x75, 0x6C, 0x6C]
        case .bool(true): out += [0x74, 0x72, 0x75, 0x65]
        case .bool(false): out += [0x66, 0x61, 0x6C, 0x73, 0x65]
        case .number(let number): out += number.description.utf8
        case .string(let string): writeString(string, asciiOnly: style.asciiOnly, into: &out)
        case .array(let elements):
            out.append(0x5B)
            for (i, element) in elements.enumerated() {
                if i > 0 { out += style.itemSeparator }
                write(element, style: style, into: &out)
            }
            out.append(0x5D)
        case .object(let object):
            out.append(0x7B)
            let members = style.sortsKeys ? object.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } : object.members
            for (i, member) in members.enumerated() {
                if i > 0 { out += style.itemSeparator }
                writeString(member.key, asciiOnly: style.asciiOnly, into: &out)
                out += style.keySeparator
                write(member.value, style: style, into: &out)
            }
            out.append(0x7D)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func writeString(_ string: String, asciiOnly: Bool, into out: inout [UInt8]) {
        out.append(0x22)
        var utf8 = string.utf8.makeIterator()
        while let byte = utf8.next() {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0x08: out += [0x5C, 0x62]
            case 0x0C: out += [0x5C, 0x66]
            case 0x00..<0x20: writeEscape(UInt16(byte), into: &out)
            // Python's ensure_ascii escapes everything outside ' '...'~', DEL included.
            case 0x7F where asciiOnly: writeEscape(0x7F, into: &out)
            case 0x20..<0x80: out.append(byte)
            default:
                guard asciiOnly else {
                    out.append(byte)
                    continue
                }
                // Swift strings are valid UTF-8, so the continuation bytes are there.
                var scalar: UInt32
                let continuationCount: Int
                switch byte {
                case 0xC0..<0xE0: scalar = UInt32(byte & 0x1F); continuationCount = 1
                case 0xE0..<0xF0: scalar = UInt32(byte & 0x0F); continuationCount = 2
                default: scalar = UInt32(byte & 0x07); continuationCount = 3
                }
                for _ in 0..<continuationCount { scalar = scalar << 6 | UInt32((utf8.next() ?? 0x80) & 0x3F) }
                if scalar >= 0x10000 {
                    let v = scalar - 0x10000
                    writeEscape(UInt16(0xD800 + (v >> 10)), into: &out)
                    writeEscape(UInt16(0xDC00 + (v & 0x3FF)), into: &out)
                } else {
                    writeEscape(UInt16(scalar), into: &out)
                }
            }
        }
        out.append(0x22)
    }

    private static func writeEscape(_ unit: UInt16, into out: inout [UInt8]) {
        out += [
            0x5C, 0x75,
            hexDigits[Int(unit >> 12)], hexDigits[Int(unit >> 8 & 0xF)],
            hexDigits[Int(unit >> 4 & 0xF)], hexDigits[Int(unit & 0xF)],
        ]
    }
}
