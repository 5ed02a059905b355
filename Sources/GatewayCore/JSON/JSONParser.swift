/// Why a request body is not acceptable JSON, and where.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case unexpectedEnd(expected: String)
        case unexpectedByte(UInt8, expected: String)
        case invalidUTF8
        case controlCharacterInString(UInt8)
        case invalidEscape(String)
        case loneSurrogate(UInt16)
        case numberOutOfRange(String)
        case integerTooLong(digits: Int, limit: Int)
        case nestingTooDeep(limit: Int)
        case trailingData
    }

    public let reason: Reason
    /// Zero-based byte offset into the body.
    public let offset: Int
    public let line: Int
    public let column: Int

    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd(let expected): what = "unexpected end of input, expected \(expected)"
        case .unexpectedByte(let byte, let expected):
            let shown = (0x20..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + Hex.encode([byte])
            what = "unexpected \(shown), expected \(expected)"
        case .invalidUTF8: what = "invalid UTF-8"
        case .controlCharacterInString(let byte): what = "unescaped control character 0x\(Hex.encode([byte])) in string"
        case .invalidEscape(let escape): what = "invalid escape \(escape)"
        case .loneSurrogate(let unit): what = "lone UTF-16 surrogate \\u\(Hex.encode([UInt8(unit >> 8), UInt8(unit & 0xFF)])) (not valid Unicode)"
        case .numberOutOfRange(let text): what = "number \(text) is out of range for a 64-bit float (Infinity is not JSON)"
        case .integerTooLong(let digits, let limit): what = "integer with \(digits) digits exceeds the limit of \(limit)"
        case .nestingTooDeep(let limit): what = "nesting deeper than \(limit) levels"
        case .trailingData: what = "extra data after the JSON value"
        }
        return "invalid JSON at line \(line), column \(column) (byte \(offset)): \(what)"
    }
}

/// A strict RFC 8259 parser that produces ``JSONValue``s.
///
/// It accepts exactly what Python's `json.loads` accepts on well-formed input, and rejects — with
/// the offending offset — what the signing contract cannot represent faithfully: `NaN`/`Infinity`
/// literals and overflowing floats (Python would turn those into `Infinity`, which is not JSON),
/// lone surrogates (not Unicode; no provider accepts them), integers longer than Python's default
/// 4300-digit conversion limit, and nesting beyond ``maxDepth``.
public struct JSONParser: Sendable {
    public var maxDepth: Int
    public var maxIntegerDigits: Int

    public init(maxDepth: Int = 256, maxIntegerDigits: Int = 4300) {
        self.maxDepth = maxDepth
        self.maxIntegerDigits = maxIntegerDigits
    }

    public func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(JSONParseError) -> JSONValue {
        if let result = bytes.withContiguousStorageIfAvailable(parseResult) { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer(parseResult).get()
    }

    public func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        return try text.withUTF8(parseResult).get()
    }

    /// The buffer-taking standard library methods only rethrow untyped errors, so results travel
    /// out of them as values.
    private func parseResult(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> {
        Result(catching: { () throws(JSONParseError) -> JSONValue in try parse(buffer: buffer) })
    }

    private func parse(buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var scanner = Scanner(bytes: buffer, limits: self)
        // A UTF-8 byte order mark is tolerated, as Python does for bytes input.
        if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { scanner.index = 3 }
        scanner.skipWhitespace()
        let value = try scanner.parseValue(depth: 0)
        scanner.skipWhitespace()
        guard scanner.index == buffer.count else { throw scanner.error(.trailingData) }
        return value
    }
}

private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: JSONParser
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONParser) {
        self.bytes = bytes
        self.limits = limits
    }

    func error(_ reason: JSONParseError.Reason, at offset: Int? = nil) -> JSONParseError {
        let offset = min(offset ?? index, bytes.count)
        var line = 1
        var lineStart = 0
        for i in 0..<offset where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        // Columns count characters, not bytes, so they match what an editor shows.
        var column = 1
        for i in lineStart..<offset where bytes[i] & 0xC0 != 0x80 { column += 1 }
        return JSONParseError(reason: reason, offset: offset, line: line, column: column)
    }

    func unexpected(_ expected: String) -> JSONParseError {
        index < bytes.count ? error(.unexpectedByte(bytes[index], expected: expected)) : error(.unexpectedEnd(expected: expected))
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error(.unexpectedEnd(expected: "a JSON value")) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw unexpected("a JSON value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = index
        for byte in UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) {
            guard index < bytes.count, bytes[index] == byte else {
                throw index < bytes.count ? unexpected("'\(literal)'") : error(.unexpectedEnd(expected: "'\(literal)'"), at: start)
            }
            index += 1
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= limits.maxDepth else { throw error(.nestingTooDeep(limit: limits.maxDepth)) }
        index += 1
        var object = JSONObject()
        // Small objects check duplicates by scanning; large ones switch to a byte-exact hash index
        // so a hostile body with a million keys stays linear.
        var positions: [ExactKey: Int]? = nil
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw unexpected("a string key") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw unexpected("':' after object key") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            if positions == nil, object.count >= 16 {
                var built = [ExactKey: Int]()
                for (i, member) in object.members.enumerated() { built[ExactKey(member.key)] = i }
                positions = built
            }
            if positions != nil {
                let exact = ExactKey(key)
                if let existing = positions![exact] {
                    object.replaceValue(at: existing, with: value)
                } else {
                    positions![exact] = object.count
                    object.appendUnchecked(key, value)
                }
            } else if let existing = object.index(of: key) {
                object.replaceValue(at: existing, with: value)
            } else {
                object.appendUnchecked(key, value)
            }
            skipWhitespace()
            guard index < bytes.count else { throw unexpected("',' or '}' after object member") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw unexpected("',' or '}' after object member") }
            index += 1
            return .object(object)
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= limits.maxDepth else { throw error(.nestingTooDeep(limit: limits.maxDepth)) }
        index += 1
        var elements = [JSONValue]()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw unexpected("',' or ']' after array element") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw unexpected("',' or ']' after array element") }
            index += 1
            return .array(elements)
        }
    }

    mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes, so the string is a slice of the input (validated as UTF-8).
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                guard let string = String(validating: slice, as: UTF8.self) else { throw invalidUTF8(in: start..<index) }
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error(.controlCharacterInString(byte)) }
            index += 1
        }
        var decoded = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: decoded, as: UTF8.self) else { throw invalidUTF8(in: start..<index) }
                index += 1
                return string
            case UInt8(ascii: "\\"):
                try parseEscape(into: &decoded)
            case 0..<0x20:
                throw error(.controlCharacterInString(byte))
            default:
                decoded.append(byte)
                index += 1
            }
        }
        throw error(.unexpectedEnd(expected: "'\"' to close the string"))
    }

    func invalidUTF8(in range: Range<Int>) -> JSONParseError {
        // Point at the first byte that breaks UTF-8 rather than at the string's start.
        var i = range.lowerBound
        while i < range.upperBound {
            let remaining = UnsafeBufferPointer(rebasing: bytes[i..<range.upperBound])
            var iterator = remaining.makeIterator()
            var decoder = UTF8()
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): i += UTF8.width(scalar)
            case .error, .emptyInput: return error(.invalidUTF8, at: i)
            }
        }
        return error(.invalidUTF8, at: range.lowerBound)
    }

    mutating func parseEscape(into decoded: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = index
        index += 1
        guard index < bytes.count else { throw error(.unexpectedEnd(expected: "an escape character")) }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): decoded.append(0x22)
        case UInt8(ascii: "\\"): decoded.append(0x5C)
        case UInt8(ascii: "/"): decoded.append(0x2F)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4(escapeStart: escapeStart)
            var scalarValue = UInt32(unit)
            if (0xD800...0xDBFF).contains(unit) {
                let lowStart = index
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw error(.loneSurrogate(unit), at: escapeStart)
                }
                index += 2
                let low = try parseHex4(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else { throw error(.loneSurrogate(unit), at: escapeStart) }
                scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw error(.loneSurrogate(unit), at: escapeStart)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else { throw error(.loneSurrogate(unit), at: escapeStart) }
            appendUTF8(scalar, to: &decoded)
        default:
            throw error(.invalidEscape("\\" + String(decoding: [byte], as: UTF8.self)), at: escapeStart)
        }
    }

    mutating func parseHex4(escapeStart: Int) throws(JSONParseError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw error(.unexpectedEnd(expected: "four hex digits after \\u")) }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default:
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[escapeStart..<min(escapeStart + 6, bytes.count)]), as: UTF8.self)
                throw error(.invalidEscape(text), at: escapeStart)
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw error(.unexpectedEnd(expected: "a digit")) }
        let integerStart = index
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(bytes[index]) {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        } else {
            throw unexpected("a digit")
        }
        let integerEnd = index
        var isFloat = false
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isFloat = true
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw unexpected("a digit after '.'") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            isFloat = true
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw unexpected("a digit in the exponent") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isFloat {
            guard let value = Double(text), value.isFinite else { throw error(.numberOutOfRange(text), at: start) }
            return JSONNumber(storage: .float(value))
        }
        let digitCount = integerEnd - integerStart
        guard digitCount <= limits.maxIntegerDigits else {
            throw error(.integerTooLong(digits: digitCount, limit: limits.maxIntegerDigits), at: start)
        }
        // JSON forbids leading zeros, so the only normalization Python's int() does is -0 → 0.
        return JSONNumber(storage: .integer(text == "-0" ? "0" : text))
    }

    func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        let v = scalar.value
        switch v {
        case 0..<0x80: out.append(UInt8(v))
        case 0x80..<0x800: out += [UInt8(0xC0 | v >> 6), UInt8(0x80 | v & 0x3F)]
        case 0x800..<0x10000: out += [UInt8(0xE0 | v >> 12), UInt8(0x80 | v >> 6 & 0x3F), UInt8(0x80 | v & 0x3F)]
        default: out += [UInt8(0xF0 | v >> 18), UInt8(0x80 | v >> 12 & 0x3F), UInt8(0x80 | v >> 6 & 0x3F), UInt8(0x80 | v & 0x3F)]
        }
    }

    @inline(__always) func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
}

/// A dictionary key that compares strings by their exact UTF-8 bytes (Swift's `String` hashing
/// and equality use canonical equivalence, which would merge keys Python keeps apart).
private struct ExactKey: Hashable {
    let string: String
    init(_ string: String) { self.string = string }
    static func == (a: ExactKey, b: ExactKey) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }
    func hash(into hasher: inout Hasher) {
        var copy = string
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
