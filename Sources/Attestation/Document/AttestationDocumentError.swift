/// Why a COSE payload is not a well-formed NSM attestation document (nsm-api
/// `docs/attestation_process.md` §3.2.2).
public enum AttestationDocumentError: Error, Equatable, CustomStringConvertible {
    case cbor(CBORError)
    case notAMap(found: String)
    case missingField(String)
    case unexpectedField(String)
    case wrongType(field: String, expected: String, found: String)
    case emptyModuleID
    case unsupportedDigest(String)
    case zeroTimestamp
    case pcrCount(Int)
    case pcrIndex(String)
    case pcrLength(index: Int, length: Int)
    case emptyCABundle
    case lengthOutOfRange(field: String, length: Int, allowed: ClosedRange<Int>)

    public var description: String {
        switch self {
        case .cbor(let error): "document payload: \(error)"
        case .notAMap(let found): "document payload: expected a map, found \(found)"
        case .missingField(let field): "document: required field \(field) is missing"
        case .unexpectedField(let field): "document: unexpected field \(field)"
        case .wrongType(let field, let expected, let found):
            "document: \(field) must be a \(expected), found \(found)"
        case .emptyModuleID: "document: module_id is empty"
        case .unsupportedDigest(let digest): "document: digest \"\(digest)\" is not SHA384"
        case .zeroTimestamp: "document: timestamp is 0"
        case .pcrCount(let count): "document: pcrs has \(count) entries, allowed 1...32"
        case .pcrIndex(let key): "document: PCR index \(key) is not an integer in 0...31"
        case .pcrLength(let index, let length): "document: PCR\(index) is \(length) bytes, allowed 32, 48 or 64"
        case .emptyCABundle: "document: cabundle is empty"
        case .lengthOutOfRange(let field, let length, let allowed):
            "document: \(field) is \(length) bytes, allowed \(allowed.lowerBound)...\(allowed.upperBound)"
        }
    }
}
