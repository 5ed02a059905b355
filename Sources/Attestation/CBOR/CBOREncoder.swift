extension CBOR {
    /// Deterministic encoding of everything this library produces: preferred (shortest)
    /// argument encoding and definite lengths, as RFC 8949 §4.2.1 requires. Map entries are
    /// written in the order given rather than sorted, because NSM's own documents and requests
    /// use declaration order and ours must match them.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    private func append(to out: inout [UInt8]) {
        switch self {
        case .unsigned(let value): Self.appendHead(major: 0, argument: value, to: &out)
        case .negative(let value): Self.appendHead(major: 1, argument: value, to: &out)
        case .bytes(let bytes):
            Self.appendHead(major: 2, argument: UInt64(bytes.count), to: &out)
            out.append(contentsOf: bytes)
        case .text(let text):
            let utf8 = Array(text.utf8)
            Self.appendHead(major: 3, argument: UInt64(utf8.count), to: &out)
            out.append(contentsOf: utf8)
        case .array(let elements):
            Self.appendHead(major: 4, argument: UInt64(elements.count), to: &out)
            for element in elements { element.append(to: &out) }
        case .map(let entries):
            Self.appendHead(major: 5, argument: UInt64(entries.count), to: &out)
            for entry in entries {
                entry.key.append(to: &out)
                entry.value.append(to: &out)
            }
        case .tagged(let tag, let item):
            Self.appendHead(major: 6, argument: tag, to: &out)
            item.append(to: &out)
        case .bool(let value): out.append(value ? 0xf5 : 0xf4)
        case .null: out.append(0xf6)
        case .undefined: out.append(0xf7)
        }
    }

    private static func appendHead(major: UInt8, argument: UInt64, to out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24: out.append(type | UInt8(argument))
        case 24...0xff: out.append(contentsOf: [type | 24, UInt8(argument)])
        case 0x100...0xffff: appendBigEndian(argument, width: 2, info: type | 25, to: &out)
        case 0x1_0000...0xffff_ffff: appendBigEndian(argument, width: 4, info: type | 26, to: &out)
        default: appendBigEndian(argument, width: 8, info: type | 27, to: &out)
        }
    }

    private static func appendBigEndian(_ value: UInt64, width: Int, info: UInt8, to out: inout [UInt8]) {
        out.append(info)
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
