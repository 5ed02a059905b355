import Testing

@testable import GatewayCore

@Suite struct JSONWriterTests {
    @Test(arguments: [
        (0.1, "0.1"), (1.0, "1.0"), (1e-05, "1e-05"), (1e20, "1e+20"), (100.0, "100.0"), (-0.0, "-0.0"), (0.0, "0.0"),
        (1e16, "1e+16"), (1e15, "1000000000000000.0"), (0.0001, "0.0001"), (0.00012, "0.00012"), (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (123456789.123, "123456789.123"), (1.5e300, "1.5e+300"),
        (-2.5e-7, "-2.5e-07"), (1234567890123456.7, "1234567890123456.8"), (12345678901234567.0, "1.2345678901234568e+16"),
        (0.7, "0.7"), (2.0 / 3.0, "0.6666666666666666"),
    ])
    func pythonFloatRepr(value: Double, expected: String) {
        #expect(JSONNumber(value).description == expected)
    }

    @Test func canonicalEscaping() {
        let value: JSONValue = .string("\u{0}\u{1F}\u{7F}\u{80}é\u{2028}\u{FFFF}😊\"\\/\n\r\t\u{8}\u{C}")
        #expect(JSONWriter.string(value, style: .canonical) == #""\u0000\u001f\u007f\u0080\u00e9\u2028\uffff\ud83d\ude0a\"\\/\n\r\t\b\f""#)
        // Compact output keeps UTF-8 and DEL, but still escapes controls.
        #expect(JSONWriter.string(value, style: .compact) == "\"\\u0000\\u001f\u{7F}\u{80}é\u{2028}\u{FFFF}😊\\\"\\\\/\\n\\r\\t\\b\\f\"")
    }

    @Test func keysSortByCodePointNotUTF16() {
        // U+FFFF < U+10000 by code point; in UTF-16 the surrogate D800 sorts before FFFF.
        let value: JSONValue = ["\u{10000}": 1, "\u{FFFF}": 2, "b": 3, "B": 4, "a\u{0}": 5, "a": 6]
        #expect(JSONWriter.string(value, style: .canonical) == #"{"B": 4, "a": 6, "a\u0000": 5, "b": 3, "\uffff": 2, "\ud800\udc00": 1}"#)
    }

    @Test func layouts() throws {
        let value = try parse(#"{"z": [1, {"y": null, "x": true}], "a": "é"}"#)
        #expect(JSONWriter.string(value, style: .canonical) == #"{"a": "\u00e9", "z": [1, {"x": true, "y": null}]}"#)
        #expect(JSONWriter.string(value, style: .python) == #"{"z": [1, {"y": null, "x": true}], "a": "\u00e9"}"#)
        #expect(JSONWriter.string(value, style: .compact) == #"{"z":[1,{"y":null,"x":true}],"a":"é"}"#)
    }

    @Test func parseWriteRoundTripIsStable() throws {
        let text = #"{"a":[1,2.5,-0.0,1e-05,"x\u00e9"],"b":{"c":null,"d":false}}"#
        let once = JSONWriter.serialize(try parse(text), style: .compact)
        #expect(try JSONWriter.serialize(JSONParser().parse(once), style: .compact) == once)
    }
}
