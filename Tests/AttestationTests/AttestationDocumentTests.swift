import Attestation
import Testing

@Suite struct AttestationDocumentTests {
    let document: RealDocument
    let entries: [CBORMapEntry]

    init() throws {
        document = try RealDocument(name: "epsilon-nitro-verify-2026-02-06")
        guard case .map(let entries) = try CBORDecoder.decode(try COSESign1(decoding: document.bytes).payload) else {
            throw CBORError.unexpectedBreak(offset: 0)
        }
        self.entries = entries
    }

    func payload(setting field: String, to value: CBOR?) -> [UInt8] {
        var copy = entries.filter { $0.key != .text(field) }
        if let value { copy.append(CBORMapEntry(.text(field), value)) }
        return CBOR.map(copy).encoded()
    }

    @Test func decodesARealPayload() throws {
        let parsed = try AttestationDocument(decoding: try COSESign1(decoding: document.bytes).payload)
        #expect(parsed.moduleID == document.metadata["module_id"] as? String)
        #expect(parsed.pcrs.count == 16)
        #expect(parsed.pcrs[0] == (try document.hexField("pcr0")))
        #expect(parsed.cabundle.count == 4)
        #expect(parsed.publicKey == nil)  // CBOR null in this document
        #expect(parsed.nonce == (try document.optionalField("nonce")))
        #expect(parsed.userData == (try document.optionalField("user_data")))
    }

    @Test func encodesInNSMFieldOrderWithNulls() throws {
        let parsed = try AttestationDocument(decoding: CBOR.map(entries).encoded())
        let encoded = parsed.encoded()
        guard case .map(let reencoded) = try CBORDecoder.decode(encoded) else {
            Issue.record("not a map")
            return
        }
        #expect(reencoded.map(\.key) == entries.map(\.key))
        #expect(reencoded.first { $0.key == .text("public_key") }?.value == .null)
        #expect(try AttestationDocument(decoding: encoded) == parsed)
    }

    @Test func absentOptionalFieldsAreAccepted() throws {
        var copy = entries
        copy.removeAll { [CBOR.text("public_key"), .text("user_data"), .text("nonce")].contains($0.key) }
        #expect(copy.count == 6)
        let parsed = try AttestationDocument(decoding: CBOR.map(copy).encoded())
        #expect(parsed.publicKey == nil && parsed.userData == nil && parsed.nonce == nil)
    }

    @Test func strictValidationNamesTheField() {
        let zero48 = CBOR.bytes([UInt8](repeating: 0, count: 48))
        let cases: [(String, CBOR?, AttestationDocumentError)] = [
            ("module_id", nil, .missingField("module_id")),
            ("module_id", .text(""), .emptyModuleID),
            ("module_id", .bytes([1]), .wrongType(field: "module_id", expected: "text string", found: "byte string")),
            ("digest", .text("SHA256"), .unsupportedDigest("SHA256")),
            ("timestamp", .unsigned(0), .zeroTimestamp),
            (
                "timestamp", .integer(-5),
                .wrongType(field: "timestamp", expected: "unsigned integer", found: "negative integer")
            ),
            ("pcrs", .map([]), .pcrCount(0)),
            ("pcrs", .map([CBORMapEntry(.unsigned(32), zero48)]), .pcrIndex("32")),
            ("pcrs", .map([CBORMapEntry(.text("0"), zero48)]), .pcrIndex("\"0\"")),
            ("pcrs", .map([CBORMapEntry(.unsigned(3), .bytes([1, 2]))]), .pcrLength(index: 3, length: 2)),
            ("pcrs", .array([]), .wrongType(field: "pcrs", expected: "map", found: "array")),
            ("certificate", .bytes([]), .lengthOutOfRange(field: "certificate", length: 0, allowed: 1...1024)),
            ("cabundle", .array([]), .emptyCABundle),
            (
                "cabundle", .array([.text("x")]),
                .wrongType(field: "cabundle[0]", expected: "byte string", found: "text string")
            ),
            (
                "user_data", .bytes([UInt8](repeating: 1, count: 513)),
                .lengthOutOfRange(field: "user_data", length: 513, allowed: 0...512)
            ),
            ("nonce", .text("n"), .wrongType(field: "nonce", expected: "byte string", found: "text string")),
            ("public_key", .bytes([]), .lengthOutOfRange(field: "public_key", length: 0, allowed: 1...1024)),
            ("extra", .null, .unexpectedField("\"extra\"")),
        ]
        for (field, value, error) in cases {
            #expect(throws: error, "\(field)") { try AttestationDocument(decoding: payload(setting: field, to: value)) }
        }
        #expect(throws: AttestationDocumentError.notAMap(found: "array")) {
            try AttestationDocument(decoding: CBOR.array([]).encoded())
        }
        #expect(throws: AttestationDocumentError.unexpectedField("7")) {
            try AttestationDocument(decoding: CBOR.map(entries + [CBORMapEntry(.unsigned(7), .null)]).encoded())
        }
    }

    @Test func errorMessagesAreActionable() {
        #expect(
            AttestationDocumentError.pcrLength(index: 3, length: 2).description
                == "document: PCR3 is 2 bytes, allowed 32, 48 or 64"
        )
        #expect(
            AttestationDocumentError.cbor(.truncated(what: "map", offset: 3, needed: 1, available: 0)).description
                == "document payload: truncated map at offset 3: need 1 bytes, 0 left"
        )
    }
}
