import GatewayCore

/// One failed check of an attestation, with the values that made it fail.
public enum VerificationFailure: Error, Equatable, CustomStringConvertible {
    case cose(COSEError)
    case document(AttestationDocumentError)
    case leafKeyUnusable(String)
    case signatureInvalid
    case chain(ChainError)
    case nonceMissing(expected: [UInt8])
    case nonceMismatch(expected: [UInt8], got: [UInt8])
    case pcrMissing(index: Int)
    case pcrMismatch(index: Int, expected: [UInt8], got: [UInt8])
    case userDataMissing
    case userData(UserDataBindingError)
    case bindingEntryMissing(UserDataBinding.Entry)
    case bindingMismatch(UserDataBinding.Entry, expected: [UInt8], got: [UInt8])

    public var description: String {
        switch self {
        case .cose(let error): "\(error)"
        case .document(let error): "\(error)"
        case .leafKeyUnusable(let reason): "signature: leaf certificate key unusable: \(reason)"
        case .signatureInvalid: "signature: ECDSA P-384 signature does not verify over Sig_structure with the leaf key"
        case .chain(let error): "\(error)"
        case .nonceMissing(let expected): "nonce mismatch: expected \(Hex.encode(expected)) got none"
        case .nonceMismatch(let expected, let got):
            "nonce mismatch: expected \(Hex.encode(expected)) got \(Hex.encode(got))"
        case .pcrMissing(let index): "PCR\(index) mismatch: the document has no PCR\(index)"
        case .pcrMismatch(let index, let expected, let got):
            "PCR\(index) mismatch: expected \(Hex.encode(expected)) got \(Hex.encode(got))"
                + (got.allSatisfy { $0 == 0 } ? " (all zero: a debug-mode enclave)" : "")
        case .userDataMissing: "user_data: the document has no user_data, so nothing is bound"
        case .userData(let error): "\(error)"
        case .bindingEntryMissing(let entry):
            "user_data: no entry \(entry.rawValue) (\(entry.name)) in the document"
        case .bindingMismatch(let entry, let expected, let got):
            "user_data: \(entry.name) mismatch: expected sha256 \(Hex.encode(expected)) got \(Hex.encode(got))"
        }
    }
}
