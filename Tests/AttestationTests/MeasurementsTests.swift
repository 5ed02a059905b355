import Attestation
import Foundation
import Testing

@Suite struct MeasurementsTests {
    static func json(_ fields: [String: String]) -> Data {
        let body = fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
        return Data("{\"Measurements\":{\(body)}}".utf8)
    }

    static let hex0 = String(repeating: "0a", count: 48), hex1 = String(repeating: "1B", count: 48)
    static let hex2 = String(repeating: "2c", count: 48), hex8 = String(repeating: "88", count: 48)
    static let base = ["HashAlgorithm": "Sha384 { ... }", "PCR0": hex0, "PCR1": hex1, "PCR2": hex2]

    @Test func parsesTheNitroCLIFormat() throws {
        let parsed = try Measurements(json: Self.json(Self.base))
        #expect(parsed.pcrs.keys.sorted() == [0, 1, 2])
        #expect(parsed.pcrs[1] == [UInt8](repeating: 0x1b, count: 48))
        var signed = Self.base
        signed["PCR8"] = Self.hex8
        #expect(try Measurements(json: Self.json(signed)).pcrs[8] == [UInt8](repeating: 0x88, count: 48))
    }

    @Test func errorsNameTheProblem() {
        var badHex = Self.base
        badHex["PCR1"] = String(Self.hex1.dropLast(2)) + "zz"
        var short = Self.base
        short["PCR2"] = String(Self.hex2.dropLast(2))
        var odd = Self.base
        odd["PCR0"] = String(Self.hex0.dropLast())
        var missing = Self.base
        missing["PCR1"] = nil
        var sha256 = Self.base
        sha256["HashAlgorithm"] = "Sha256 { ... }"
        let cases: [(Data, MeasurementsError)] = [
            (Self.json(badHex), .badHex(pcr: "PCR1", reason: "invalid hex digit \"z\" at offset 94")),
            (Self.json(short), .wrongLength(pcr: "PCR2", bytes: 47)),
            (Self.json(odd), .badHex(pcr: "PCR0", reason: "hex string has an odd number of digits (95)")),
            (Self.json(missing), .missingField("Measurements.PCR1")),
            (Self.json(sha256), .unsupportedHashAlgorithm("Sha256 { ... }")),
            (Data("PCR0=abc".utf8), .notJSONObject),
            (Data("{\"PCR0\":\"\"}".utf8), .missingField("Measurements")),
            (Data("{\"Measurements\":{\"HashAlgorithm\":\"Sha384\",\"PCR0\":1}}".utf8), .notAString("PCR0")),
        ]
        for (data, error) in cases {
            #expect(throws: error) { try Measurements(json: data) }
        }
        #expect(
            MeasurementsError.wrongLength(pcr: "PCR2", bytes: 47).description
                == "measurements: PCR2 is 47 bytes, SHA-384 needs 48 (96 hex digits)"
        )
    }

    @Test func unreadableFileIsNamed() {
        let url = URL(fileURLWithPath: "/nonexistent/measurements.txt")
        #expect {
            try Measurements(contentsOf: url)
        } throws: { error in
            guard case .unreadable(let path, _) = error as? MeasurementsError else { return false }
            return path == url.path
        }
    }
}
