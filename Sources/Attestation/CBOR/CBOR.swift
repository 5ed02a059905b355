/// A decoded CBOR data item (RFC 8949), limited to what the Nitro Secure Module speaks.
///
/// Maps keep their entries in wire order because NSM documents are *not* in deterministic key
/// order (`module_id, digest, timestamp, …`), and a simulated document must mirror a real one
/// byte for byte in structure. Floats and simple values other than false/true/null/undefined are
/// not representable: NSM never sends them, so the decoder rejects them instead of guessing.
public indirect enum CBOR: Sendable, Hashable {
    case unsigned(UInt64)
    /// The negative integer `-1 - n`, stored as `n` so the full CBOR range (down to -2^64) fits.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    case map([CBORMapEntry])
    case tagged(UInt64, CBOR)
    case bool(Bool)
    case null
    case undefined

    /// A signed integer as CBOR: non-negative values are major type 0, negative ones major type 1.
    public static func integer(_ value: Int64) -> CBOR {
        value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
    }

    /// The value for a text key in a map, or nil when this is not a map or the key is absent.
    public subscript(key: String) -> CBOR? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == .text(key) }?.value
    }

    /// A short type name for error messages ("byte string", "map", …).
    public var typeName: String {
        switch self {
        case .unsigned: "unsigned integer"
        case .negative: "negative integer"
        case .bytes: "byte string"
        case .text: "text string"
        case .array: "array"
        case .map: "map"
        case .tagged(let tag, _): "tag \(tag)"
        case .bool: "boolean"
        case .null: "null"
        case .undefined: "undefined"
        }
    }
}

/// One key/value pair of a CBOR map; a struct (not a tuple) so maps stay `Hashable`.
public struct CBORMapEntry: Sendable, Hashable {
    public var key: CBOR
    public var value: CBOR

    public init(_ key: CBOR, _ value: CBOR) {
        self.key = key
        self.value = value
    }
}
