import Attestation
import Crypto
import Testing

@Suite struct COSETests {
    static func message(protected: [UInt8], unprotected: CBOR = .map([]), signatureLength: Int = 96) -> [UInt8] {
        CBOR.array([
            .bytes(protected), unprotected, .bytes([1, 2, 3]), .bytes([UInt8](repeating: 7, count: signatureLength)),
        ])
        .encoded()
    }

    @Test func realDocumentHasTheNSMProfile() throws {
        let document = try RealDocument(name: "anjuna-prod-2023-09-21")
        let message = try COSESign1(decoding: document.bytes)
        #expect(message.protectedHeader == [0xa1, 0x01, 0x38, 0x22])
        #expect(message.protectedHeader == COSESign1.es384ProtectedHeader)
        #expect(message.signature.count == 96)
        #expect(message.encoded() == document.bytes)
    }

    @Test func tag18IsAcceptedAndOtherTagsAreRejected() throws {
        let document = try RealDocument(name: "anjuna-prod-2023-09-21")
        let untagged = try COSESign1(decoding: document.bytes)
        #expect(try COSESign1(decoding: [0xd2] + document.bytes) == untagged)
        #expect(throws: COSEError.unexpectedTag(17)) { try COSESign1(decoding: [0xd1] + document.bytes) }
        #expect(throws: COSEError.unexpectedTag(98)) { try COSESign1(decoding: [0xd8, 0x62] + document.bytes) }
        #expect(throws: COSEError.notAnArray(found: "tag 18")) {
            try COSESign1(decoding: [0xd2, 0xd2] + document.bytes)
        }
    }

    @Test func onlyES384IsAccepted() throws {
        let es256 = CBOR.map([CBORMapEntry(.unsigned(1), .integer(-7))]).encoded()
        #expect(throws: COSEError.unsupportedAlgorithm("-7")) {
            try COSESign1(decoding: Self.message(protected: es256))
        }
        let textAlg = CBOR.map([CBORMapEntry(.unsigned(1), .text("ES384"))]).encoded()
        #expect(throws: COSEError.unsupportedAlgorithm("\"ES384\"")) {
            try COSESign1(decoding: Self.message(protected: textAlg))
        }
        let extra = CBOR.map([CBORMapEntry(.unsigned(1), .integer(-35)), CBORMapEntry(.unsigned(4), .bytes([1]))])
            .encoded()
        #expect(throws: COSEError.unsupportedProtectedHeader("a2013822044101")) {
            try COSESign1(decoding: Self.message(protected: extra))
        }
        let empty = COSEError.protectedHeader(.truncated(what: "data item", offset: 0, needed: 1, available: 0))
        #expect(throws: empty) { try COSESign1(decoding: Self.message(protected: [])) }
    }

    @Test func structuralErrors() throws {
        let good = COSESign1.es384ProtectedHeader
        #expect(throws: COSEError.wrongSignatureLength(64)) {
            try COSESign1(decoding: Self.message(protected: good, signatureLength: 64))
        }
        #expect(throws: COSEError.wrongElementType(element: "unprotected header", expected: "map", found: "null")) {
            try COSESign1(decoding: Self.message(protected: good, unprotected: .null))
        }
        #expect(throws: COSEError.wrongElementCount(3)) {
            try COSESign1(decoding: CBOR.array([.bytes(good), .map([]), .bytes([])]).encoded())
        }
        #expect(throws: COSEError.notAnArray(found: "map")) { try COSESign1(decoding: CBOR.map([]).encoded()) }
        let detached = CBOR.array([.bytes(good), .map([]), .null, .bytes([UInt8](repeating: 0, count: 96))]).encoded()
        #expect(throws: COSEError.wrongElementType(element: "payload", expected: "byte string", found: "null")) {
            try COSESign1(decoding: detached)
        }
        #expect(throws: COSEError.cbor(.trailingBytes(offset: 1, count: 1))) { try COSESign1(decoding: [0x80, 0x00]) }
    }

    /// ["Signature1", h'a1013822', h'', h'6869'] in CBOR, written out from RFC 9052 §4.4.
    @Test func sigStructureBytes() throws {
        let expected = try RealDocument.hex("846a5369676e61747572653144a101382240426869")
        #expect(COSESign1.sigStructure(protectedHeader: [0xa1, 0x01, 0x38, 0x22], payload: [0x68, 0x69]) == expected)
    }

    @Test func signAndVerifyRoundTrip() throws {
        let key = P384.Signing.PrivateKey()
        let message = try COSESign1(signing: Array("payload".utf8), with: key)
        let decoded = try COSESign1(decoding: message.encoded())
        #expect(decoded == message)
        #expect(decoded.isValidSignature(for: key.publicKey))
        #expect(!decoded.isValidSignature(for: P384.Signing.PrivateKey().publicKey))
        // The signature is over the Sig_structure, not the bare payload.
        let bare = try P384.Signing.ECDSASignature(rawRepresentation: decoded.signature)
        #expect(!key.publicKey.isValidSignature(bare, for: decoded.payload))
    }
}
