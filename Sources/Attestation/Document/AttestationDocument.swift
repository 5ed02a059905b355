import Foundation

/// The payload of an NSM attestation: what the enclave's measurements and bound data were.
///
/// Parsing is strict (exact field set, types, lengths from the NSM specification) but accepts
/// the optional fields either absent or as CBOR null, because real documents send null.
/// Decoding does not make a document trustworthy; only `AttestationVerifier` does.
public struct AttestationDocument: Sendable, Equatable {
    /// The only PCR bank digest NSM uses.
    public static let digest = "SHA384"
    /// Field order of real NSM documents, which `encoded()` reproduces.
    static let fieldOrder = [
        "module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key", "user_data", "nonce",
    ]
    static let certificateLength = 1...1024
    static let publicKeyLength = 1...1024
    static let userDataLength = 0...512
    static let nonceLength = 0...512

    public var moduleID: String
    /// Milliseconds since the Unix epoch, as NSM reports it.
    public var timestamp: UInt64
    public var pcrs: [Int: [UInt8]]
    /// DER of the certificate whose key signed this document.
    public var certificate: [UInt8]
    /// DER certificates from the root (index 0) down to the leaf's issuer.
    public var cabundle: [[UInt8]]
    public var publicKey: [UInt8]?
    public var userData: [UInt8]?
    public var nonce: [UInt8]?

    public init(
        moduleID: String, timestamp: UInt64, pcrs: [Int: [UInt8]], certificate: [UInt8], cabundle: [[UInt8]],
        publicKey: [UInt8]?, userData: [UInt8]?, nonce: [UInt8]?
    ) {
        self.moduleID = moduleID
        self.timestamp = timestamp
        self.pcrs = pcrs
        self.certificate = certificate
        self.cabundle = cabundle
        self.publicKey = publicKey
        self.userData = userData
        self.nonce = nonce
    }

    public var date: Date { Date(timeIntervalSince1970: Double(timestamp) / 1000) }

    public init(decoding payload: [UInt8], limits: CBORLimits = CBORLimits()) throws(AttestationDocumentError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(payload, limits: limits) } catch { throw .cbor(error) }
        guard case .map(let entries) = item else { throw .notAMap(found: item.typeName) }
        var fields: [String: CBOR] = [:]
        for entry in entries {
            guard case .text(let name) = entry.key, Self.fieldOrder.contains(name) else {
                throw .unexpectedField(Self.describeKey(entry.key))
            }
            fields[name] = entry.value
        }
        let reader = FieldReader(fields: fields)

        moduleID = try reader.text("module_id")
        guard !moduleID.isEmpty else { throw .emptyModuleID }
        let digest = try reader.text("digest")
        guard digest == Self.digest else { throw .unsupportedDigest(digest) }
        timestamp = try reader.unsigned("timestamp")
        guard timestamp > 0 else { throw .zeroTimestamp }
        pcrs = try Self.decodePCRs(reader.required("pcrs"))
        certificate = try reader.bytes("certificate", length: Self.certificateLength)
        cabundle = try Self.decodeCABundle(reader.required("cabundle"))
        publicKey = try reader.optionalBytes("public_key", length: Self.publicKeyLength)
        userData = try reader.optionalBytes("user_data", length: Self.userDataLength)
        nonce = try reader.optionalBytes("nonce", length: Self.nonceLength)
    }

    /// NSM's layout: fields in `fieldOrder`, PCRs by ascending index, absent values as null.
    public func encoded() -> [UInt8] {
        let pcrEntries = pcrs.keys.sorted().map { CBORMapEntry(.unsigned(UInt64($0)), .bytes(pcrs[$0] ?? [])) }
        let optional = { (value: [UInt8]?) -> CBOR in value.map { .bytes($0) } ?? .null }
        let values: [CBOR] = [
            .text(moduleID), .text(Self.digest), .unsigned(timestamp), .map(pcrEntries), .bytes(certificate),
            .array(cabundle.map { .bytes($0) }), optional(publicKey), optional(userData), optional(nonce),
        ]
        return CBOR.map(zip(Self.fieldOrder, values).map { CBORMapEntry(.text($0), $1) }).encoded()
    }

    private static func decodePCRs(_ value: CBOR) throws(AttestationDocumentError) -> [Int: [UInt8]] {
        guard case .map(let entries) = value else {
            throw .wrongType(field: "pcrs", expected: "map", found: value.typeName)
        }
        guard (1...32).contains(entries.count) else { throw .pcrCount(entries.count) }
        var pcrs: [Int: [UInt8]] = [:]
        for entry in entries {
            guard case .unsigned(let index) = entry.key, index < 32 else { throw .pcrIndex(describeKey(entry.key)) }
            guard case .bytes(let data) = entry.value else {
                throw .wrongType(field: "PCR\(index)", expected: "byte string", found: entry.value.typeName)
            }
            guard [32, 48, 64].contains(data.count) else { throw .pcrLength(index: Int(index), length: data.count) }
            pcrs[Int(index)] = data
        }
        return pcrs
    }

    private static func decodeCABundle(_ value: CBOR) throws(AttestationDocumentError) -> [[UInt8]] {
        guard case .array(let elements) = value else {
            throw .wrongType(field: "cabundle", expected: "array", found: value.typeName)
        }
        guard !elements.isEmpty else { throw .emptyCABundle }
        var bundle: [[UInt8]] = []
        for (index, element) in elements.enumerated() {
            guard case .bytes(let der) = element else {
                throw .wrongType(field: "cabundle[\(index)]", expected: "byte string", found: element.typeName)
            }
            guard certificateLength.contains(der.count) else {
                throw .lengthOutOfRange(field: "cabundle[\(index)]", length: der.count, allowed: certificateLength)
            }
            bundle.append(der)
        }
        return bundle
    }

    private static func describeKey(_ key: CBOR) -> String {
        switch key {
        case .text(let text): "\"\(text)\""
        case .unsigned(let n): "\(n)"
        default: "(\(key.typeName))"
        }
    }
}

/// Typed access to the document's fields with errors that name the field.
private struct FieldReader {
    let fields: [String: CBOR]

    func required(_ name: String) throws(AttestationDocumentError) -> CBOR {
        guard let value = fields[name] else { throw .missingField(name) }
        return value
    }

    func text(_ name: String) throws(AttestationDocumentError) -> String {
        let value = try required(name)
        guard case .text(let text) = value else {
            throw .wrongType(field: name, expected: "text string", found: value.typeName)
        }
        return text
    }

    func unsigned(_ name: String) throws(AttestationDocumentError) -> UInt64 {
        let value = try required(name)
        guard case .unsigned(let number) = value else {
            throw .wrongType(field: name, expected: "unsigned integer", found: value.typeName)
        }
        return number
    }

    func bytes(_ name: String, length: ClosedRange<Int>) throws(AttestationDocumentError) -> [UInt8] {
        let value = try required(name)
        guard case .bytes(let data) = value else {
            throw .wrongType(field: name, expected: "byte string", found: value.typeName)
        }
        guard length.contains(data.count) else {
            throw .lengthOutOfRange(field: name, length: data.count, allowed: length)
        }
        return data
    }

    /// Absent and null both mean "not given", as in real documents.
    func optionalBytes(_ name: String, length: ClosedRange<Int>) throws(AttestationDocumentError) -> [UInt8]? {
        guard let value = fields[name], value != .null else { return nil }
        return try bytes(name, length: length)
    }
}
