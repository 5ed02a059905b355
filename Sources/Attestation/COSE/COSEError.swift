/// Why bytes are not an acceptable COSE_Sign1 (RFC 9052 §4.2) for an NSM attestation.
public enum COSEError: Error, Equatable, CustomStringConvertible {
    case cbor(CBORError)
    case unexpectedTag(UInt64)
    case notAnArray(found: String)
    case wrongElementCount(Int)
    case wrongElementType(element: String, expected: String, found: String)
    case protectedHeader(CBORError)
    case unsupportedProtectedHeader(String)
    case unsupportedAlgorithm(String)
    case wrongSignatureLength(Int)

    public var description: String {
        switch self {
        case .cbor(let error): "COSE_Sign1: \(error)"
        case .unexpectedTag(let tag): "COSE_Sign1: unexpected CBOR tag \(tag) (only 18, COSE_Sign1, is allowed)"
        case .notAnArray(let found): "COSE_Sign1: expected an array of 4 elements, found \(found)"
        case .wrongElementCount(let count): "COSE_Sign1: expected 4 elements, found \(count)"
        case .wrongElementType(let element, let expected, let found):
            "COSE_Sign1: \(element) must be a \(expected), found \(found)"
        case .protectedHeader(let error): "COSE_Sign1: protected header is not valid CBOR: \(error)"
        case .unsupportedProtectedHeader(let found):
            "COSE_Sign1: protected header must be exactly {1: -35} (alg ES384), found \(found)"
        case .unsupportedAlgorithm(let found):
            "COSE_Sign1: algorithm \(found) is not ES384 (-35), the only one NSM uses"
        case .wrongSignatureLength(let count):
            "COSE_Sign1: ES384 signature must be 96 bytes (r‖s), found \(count)"
        }
    }
}
