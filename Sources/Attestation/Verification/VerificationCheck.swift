/// The checks a verification runs, in report order.
public enum VerificationCheck: Hashable, Sendable, CustomStringConvertible {
    case document
    case signature
    case chain
    case nonce
    case pcr(Int)
    case binding(UserDataBinding.Entry)

    public var description: String {
        switch self {
        case .document: "document"
        case .signature: "signature"
        case .chain: "chain"
        case .nonce: "nonce"
        case .pcr(let index): "PCR\(index)"
        case .binding(let entry): "user_data: \(entry.name)"
        }
    }
}

/// How one check ended. A skipped check says why (nothing expected, or an earlier failure).
public enum CheckStatus: Equatable, Sendable {
    case passed(String)
    case failed(VerificationFailure)
    case skipped(String)
}

public struct CheckResult: Equatable, Sendable {
    public var check: VerificationCheck
    public var status: CheckStatus
}
