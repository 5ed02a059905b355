import Testing

@testable import GatewayCore

@Suite struct JSONParserTests {
    func failure(_ text: String, parser: JSONParser = JSONParser()) -> JSONParseError? {
        do {
            _ = try parser.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func keepsIntegerVersusFloat() throws {
        let value = try parse(#"[1, 1.0, 1e2, -0, -0.0, 123456789012345678901234567890, 1E+2, 0.5e-3]"#)
        #expect(JSONWriter.string(value, style: .canonical) == "[1, 1.0, 100.0, 0, -0.0, 123456789012345678901234567890, 100.0, 0.0005]")
    }

    @Test func duplicateKeysKeepLastValueAtFirstPosition() throws {
        let value = try parse(#"{"b": 1, "a": 2, "b": 3}"#)
        #expect(JSONWriter.string(value, style: .python) == #"{"b": 3, "a": 2}"#)
        // Large objects use the hashed index; same semantics.
        let members = (0..<40).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        let large = try parse("{\(members), \"k3\": \"last\"}")
        #expect(large["k3"] == "last")
        #expect(large.objectValue?.count == 40)
        #expect(large.objectValue?.keys[3] == "k3")
    }

    @Test func canonicallyEquivalentKeysStayDistinct() throws {
        // "é" precomposed and decomposed: equal for Swift's String ==, distinct keys for Python.
        let value = try parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        #expect(value.objectValue?.count == 2)
        #expect(JSONWriter.string(value, style: .canonical) == #"{"e\u0301": 2, "\u00e9": 1}"#)
    }

    @Test func escapesDecode() throws {
        let value = try parse(#""\"\\\/\b\f\n\r\t\u00e9\ud83d\ude0a\u0000""#)
        #expect(value == .string("\"\\/\u{8}\u{C}\n\r\té😊\u{0}"))
    }

    @Test func toleratesByteOrderMark() throws {
        #expect(try JSONParser().parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .object(JSONObject()))
    }

    @Test(arguments: [
        ("", "unexpected end of input, expected a JSON value", 0),
        ("{\"a\":1,}", "unexpected '}', expected a string key", 7),
        ("{\"a\" 1}", "unexpected '1', expected ':' after object key", 5),
        ("[1 2]", "unexpected '2', expected ',' or ']' after array element", 3),
        ("{\"a\":1} x", "extra data after the JSON value", 8),
        ("NaN", "unexpected 'N', expected a JSON value", 0),
        ("[Infinity]", "unexpected 'I', expected a JSON value", 1),
        ("[-Infinity]", "unexpected 'I', expected a digit", 2),
        ("01", "extra data after the JSON value", 1),
        ("1.", "unexpected end of input, expected a digit after '.'", 2),
        ("1e", "unexpected end of input, expected a digit in the exponent", 2),
        ("[1e400]", "number 1e400 is out of range for a 64-bit float (Infinity is not JSON)", 1),
        ("\"a\u{1}b\"", "unescaped control character 0x01 in string", 2),
        ("\"\\x\"", "invalid escape \\x", 1),
        ("\"\\u12G4\"", "invalid escape \\u12G4", 1),
        ("\"\\ud800\"", "lone UTF-16 surrogate \\ud800 (not valid Unicode)", 1),
        ("\"\\udc00\\ud800\"", "lone UTF-16 surrogate \\udc00 (not valid Unicode)", 1),
        ("\"\\ud800\\u0041\"", "lone UTF-16 surrogate \\ud800 (not valid Unicode)", 1),
        ("tru", "unexpected end of input, expected 'true'", 0),
        ("nul!", "unexpected '!', expected 'null'", 3),
        ("\"abc", "unexpected end of input, expected '\"' to close the string", 4),
    ])
    func rejectsWithReasonAndOffset(text: String, message: String, offset: Int) throws {
        let error = try #require(failure(text))
        #expect(error.description.hasSuffix(message), "got: \(error)")
        #expect(error.offset == offset, "got: \(error)")
    }

    @Test func reportsLineAndColumn() throws {
        let error = try #require(failure("{\n  \"é\": [1,\n    2,,\n]}"))
        #expect(error.line == 3)
        #expect(error.column == 7)
        #expect(error.description.hasPrefix("invalid JSON at line 3, column 7 (byte 20)"))
    }

    @Test func rejectsInvalidUTF8AtTheBadByte() throws {
        let bytes: [UInt8] = Array("{\"a\": \"ok".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        #expect(throws: JSONParseError.self) { try JSONParser().parse(bytes) }
        do { _ = try JSONParser().parse(bytes) } catch { #expect(error.reason == .invalidUTF8 && error.offset == 9) }
    }

    @Test func depthLimit() throws {
        let parser = JSONParser(maxDepth: 8)
        #expect(throws: Never.self) { try parser.parse(String(repeating: "[", count: 8) + String(repeating: "]", count: 8)) }
        let error = try #require(failure(String(repeating: "[", count: 9) + String(repeating: "]", count: 9), parser: parser))
        #expect(error.reason == .nestingTooDeep(limit: 8))
        // The default limit holds a hostile body without exhausting the stack.
        #expect(failure(String(repeating: "[", count: 100_000))?.reason == .nestingTooDeep(limit: 256))
    }

    @Test func integerDigitLimitMatchesPython() throws {
        #expect(failure(String(repeating: "9", count: 4300)) == nil)
        #expect(failure(String(repeating: "9", count: 4301))?.reason == .integerTooLong(digits: 4301, limit: 4300))
    }

    @Test func everyTruncationIsAnErrorNotACrash() throws {
        let text = #"{"model": "gpt-4.1", "messages": [{"role": "user", "content": "H\u00e9llo \ud83d\ude0a"}], "temperature": 1e-05, "n": [true, false, null]}"#
        let bytes = Array(text.utf8)
        #expect(throws: Never.self) { try JSONParser().parse(bytes) }
        for end in 0..<bytes.count {
            #expect(throws: JSONParseError.self) { try JSONParser().parse(bytes[0..<end]) }
        }
    }
}
