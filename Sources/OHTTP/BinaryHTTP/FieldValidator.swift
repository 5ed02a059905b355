/// RFC 9292 §3.6 makes HTTP/2's field rules (RFC 9113 §8.2) binding on Binary HTTP; the encoder
/// and the decoder both run every field line through this, in order, one section at a time.
struct FieldValidator {
    enum Section {
        case header
        case trailer
    }

    /// Replaced by control data (RFC 9292 §3.6) or connection-specific (RFC 9113 §8.2.2).
    /// Passing those to an inner handler invites request smuggling, so they are refused.
    static let forbiddenNames: Set<String> = [
        ":method", ":scheme", ":authority", ":path", ":status",
        "connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade",
    ]

    let section: Section
    private var sawRegularField = false

    init(_ section: Section) {
        self.section = section
    }

    mutating func field(name: [UInt8], value: [UInt8], offset: Int?) throws(BinaryHTTPError) -> HTTPField {
        let nameText = String(decoding: name, as: UTF8.self)
        guard Self.isValidName(name) else { throw .invalidFieldName(nameText, offset: offset) }
        guard !Self.forbiddenNames.contains(nameText) else { throw .forbiddenField(nameText, offset: offset) }
        if name[0] == UInt8(ascii: ":") {
            guard section == .header, !sawRegularField else { throw .misplacedPseudoField(nameText, offset: offset) }
        } else {
            sawRegularField = true
        }
        guard Self.isValidValue(value), let valueText = String(validating: value, as: UTF8.self) else {
            throw .invalidFieldValue(name: nameText, offset: offset)
        }
        // RFC 9113 §8.2.2: "te" may appear only as "trailers".
        guard nameText != "te" || valueText == "trailers" else { throw .forbiddenField(nameText, offset: offset) }
        return HTTPField(name: nameText, value: valueText)
    }

    /// A lowercase token, optionally prefixed by ":" for extension pseudo-fields.
    static func isValidName(_ name: [UInt8]) -> Bool {
        let body = name.first == UInt8(ascii: ":") ? name.dropFirst() : name[...]
        return !body.isEmpty
            && body.allSatisfy { isTokenByte($0) && !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    /// RFC 9113 §8.2.1: no NUL, CR or LF; no leading or trailing SP/HTAB.
    static func isValidValue(_ value: [UInt8]) -> Bool {
        let whitespace: Set<UInt8> = [0x20, 0x09]
        if let first = value.first, let last = value.last, whitespace.contains(first) || whitespace.contains(last) {
            return false
        }
        return !value.contains { $0 == 0x00 || $0 == 0x0A || $0 == 0x0D }
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
