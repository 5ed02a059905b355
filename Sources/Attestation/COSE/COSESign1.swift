import GatewayCore
import Crypto

/// A COSE_Sign1 message restricted to the profile NSM uses: protected header exactly
/// `{1: -35}` (ES384), an unprotected header that is ignored, an attached payload and a
/// 96-byte r‖s P-384 signature.
///
/// Anything outside that profile is rejected rather than interpreted: an attacker who could get
/// a different algorithm or a detached payload accepted would not need to forge ES384.
public struct COSESign1: Sendable, Equatable {
    public static let tag: UInt64 = 18
    /// The only protected header NSM emits and the only one accepted: `{1: -35}`.
    public static let es384ProtectedHeader = CBOR.map([CBORMapEntry(.unsigned(1), .integer(-35))]).encoded()

    /// Exact bytes of the protected header: the signature covers these bytes, not a re-encoding.
    public let protectedHeader: [UInt8]
    public let payload: [UInt8]
    public let signature: [UInt8]

    /// Accepts the untagged form (what real NSM documents use) or tag 18; every other tag fails.
    public init(decoding bytes: [UInt8], limits: CBORLimits = CBORLimits()) throws(COSEError) {
        var item: CBOR
        do { item = try CBORDecoder.decode(bytes, limits: limits) } catch { throw .cbor(error) }
        if case .tagged(let tag, let inner) = item {
            guard tag == Self.tag else { throw .unexpectedTag(tag) }
            item = inner
        }
        guard case .array(let elements) = item else { throw .notAnArray(found: item.typeName) }
        guard elements.count == 4 else { throw .wrongElementCount(elements.count) }
        guard case .bytes(let protected) = elements[0] else {
            throw .wrongElementType(element: "protected header", expected: "byte string", found: elements[0].typeName)
        }
        guard case .map = elements[1] else {
            throw .wrongElementType(element: "unprotected header", expected: "map", found: elements[1].typeName)
        }
        guard case .bytes(let payload) = elements[2] else {
            throw .wrongElementType(element: "payload", expected: "byte string", found: elements[2].typeName)
        }
        guard case .bytes(let signature) = elements[3] else {
            throw .wrongElementType(element: "signature", expected: "byte string", found: elements[3].typeName)
        }
        try Self.checkProtectedHeader(protected)
        guard signature.count == 96 else { throw .wrongSignatureLength(signature.count) }
        self.protectedHeader = protected
        self.payload = payload
        self.signature = signature
    }

    /// Signs `payload` the way NSM does (ES384 over the Sig_structure, untagged output).
    public init(signing payload: [UInt8], with key: P384.Signing.PrivateKey) throws {
        self.protectedHeader = Self.es384ProtectedHeader
        self.payload = payload
        let toBeSigned = Self.sigStructure(protectedHeader: protectedHeader, payload: payload)
        self.signature = Array(try key.signature(for: toBeSigned).rawRepresentation)
    }

    /// `["Signature1", protected, external_aad = h'', payload]` (RFC 9052 §4.4).
    public static func sigStructure(protectedHeader: [UInt8], payload: [UInt8]) -> [UInt8] {
        CBOR.array([.text("Signature1"), .bytes(protectedHeader), .bytes([]), .bytes(payload)]).encoded()
    }

    public func isValidSignature(for key: P384.Signing.PublicKey) -> Bool {
        guard let ecdsa = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(ecdsa, for: Self.sigStructure(protectedHeader: protectedHeader, payload: payload))
    }

    /// The untagged encoding, as `/dev/nsm` returns it.
    public func encoded() -> [UInt8] {
        CBOR.array([.bytes(protectedHeader), .map([]), .bytes(payload), .bytes(signature)]).encoded()
    }

    private static func checkProtectedHeader(_ bytes: [UInt8]) throws(COSEError) {
        let header: CBOR
        do { header = try CBORDecoder.decode(bytes) } catch { throw .protectedHeader(error) }
        guard case .map(let entries) = header, entries.count == 1, entries[0].key == .unsigned(1) else {
            throw .unsupportedProtectedHeader(Hex.encode(bytes))
        }
        guard entries[0].value == .integer(-35) else {
            throw .unsupportedAlgorithm(Self.describe(entries[0].value))
        }
    }

    private static func describe(_ value: CBOR) -> String {
        switch value {
        case .unsigned(let n): "\(n)"
        case .negative(let n) where n < UInt64(Int64.max): "\(-1 - Int64(n))"
        case .text(let text): "\"\(text)\""
        default: value.typeName
        }
    }
}
