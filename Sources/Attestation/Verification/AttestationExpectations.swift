import Foundation

/// What the verifying side expects of a document beyond "AWS signed it".
public struct AttestationExpectations: Sendable {
    /// The fresh nonce sent with the request; nil skips the check (replay is then possible).
    public var nonce: [UInt8]?
    /// Expected PCR0/1/2 (and 8 when present); nil skips the PCR policy, so even a debug-mode
    /// enclave passes.
    public var measurements: Measurements?
    /// What the server presented; each value given is checked against `user_data`.
    public var tlsCertificateDER: [UInt8]?
    public var signingKeySPKIDER: [UInt8]?
    public var ohttpKeyConfigs: [UInt8]?
    /// When to evaluate certificate validity; nil means the document's own timestamp. Pin it to
    /// verify an old document: Nitro leaves live about three hours.
    public var verificationTime: Date?

    public init(
        nonce: [UInt8]? = nil, measurements: Measurements? = nil, tlsCertificateDER: [UInt8]? = nil,
        signingKeySPKIDER: [UInt8]? = nil, ohttpKeyConfigs: [UInt8]? = nil, verificationTime: Date? = nil
    ) {
        self.nonce = nonce
        self.measurements = measurements
        self.tlsCertificateDER = tlsCertificateDER
        self.signingKeySPKIDER = signingKeySPKIDER
        self.ohttpKeyConfigs = ohttpKeyConfigs
        self.verificationTime = verificationTime
    }

    func presented(_ entry: UserDataBinding.Entry) -> [UInt8]? {
        switch entry {
        case .tlsCertificate: tlsCertificateDER
        case .signingKey: signingKeySPKIDER
        case .ohttpKeys: ohttpKeyConfigs
        }
    }
}
