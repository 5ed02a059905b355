import GatewayCore

/// One key-service request. Callers never build these directly: `KeyServiceClient` has a
/// method per operation and the server hands each case to the matching `KeyServiceHandler`
/// method.
enum KeyServiceRequest: Hashable, Sendable {
    case publicKey
    case signInference(requestHash: Keccak256Digest, outputHash: Keccak256Digest)
    case signRecord(SignableRecord)
    case attest(nonce: AttestationNonce)
    case ohttpConfigs
    /// `chunked`: the body is `message/ohttp-chunked-req` rather than `message/ohttp-req`.
    case ohttpOpen(encapsulatedRequest: [UInt8], chunked: Bool)
    case providerSecrets
    case injectSecrets(envelope: [UInt8])
    case registerTLSCertificate(sha256: [UInt8])
    case health
    case ready

    var operation: KeyServiceOperation {
        switch self {
        case .publicKey: .publicKey
        case .signInference: .signInference
        case .signRecord: .signRecord
        case .attest: .attest
        case .ohttpConfigs: .ohttpConfigs
        case .ohttpOpen: .ohttpOpen
        case .providerSecrets: .providerSecrets
        case .injectSecrets: .injectSecrets
        case .registerTLSCertificate: .registerTLSCertificate
        case .health: .health
        case .ready: .ready
        }
    }

    /// The fields a request of this operation carries besides `id` and `type`; for
    /// `signRecord` they depend on the record `domain`.
    static func fields(of operation: KeyServiceOperation, domain: String?) -> Set<String> {
        switch operation {
        case .publicKey, .ohttpConfigs, .providerSecrets, .health, .ready: []
        case .signInference: ["requestHash", "outputHash"]
        case .signRecord: Set(["domain"]).union(domain.flatMap { SignableRecord.fields[$0] } ?? [])
        case .attest: ["nonce"]
        case .ohttpOpen: ["encapsulatedRequest", "chunked"]
        case .injectSecrets: ["envelope"]
        case .registerTLSCertificate: ["sha256"]
        }
    }

    init(_ operation: KeyServiceOperation, from reader: WireReader) throws(KeyServiceProtocolError) {
        switch operation {
        case .publicKey: self = .publicKey
        case .ohttpConfigs: self = .ohttpConfigs
        case .providerSecrets: self = .providerSecrets
        case .health: self = .health
        case .ready: self = .ready
        case .signInference:
            self = .signInference(requestHash: try reader.keccak("requestHash"), outputHash: try reader.keccak("outputHash"))
        case .signRecord:
            self = .signRecord(try SignableRecord(domain: try reader.string("domain", maximumBytes: 64), from: reader))
        case .attest:
            self = .attest(nonce: try AttestationNonce(reader.bytes("nonce", length: AttestationNonce.allowedByteCounts)))
        case .ohttpOpen:
            self = .ohttpOpen(
                encapsulatedRequest: try reader.bytes("encapsulatedRequest", length: Limits.encapsulatedRequest),
                chunked: try reader.bool("chunked"))
        case .injectSecrets:
            self = .injectSecrets(envelope: try reader.bytes("envelope", length: Limits.injectionEnvelope))
        case .registerTLSCertificate:
            self = .registerTLSCertificate(sha256: try reader.sha256("sha256"))
        }
    }

    func write(to writer: inout WireWriter) throws {
        switch self {
        case .publicKey, .ohttpConfigs, .providerSecrets, .health, .ready:
            break
        case .signInference(let requestHash, let outputHash):
            try writer.write(bytes: requestHash.bytes, "requestHash")
            try writer.write(bytes: outputHash.bytes, "outputHash")
        case .signRecord(let record):
            try record.write(to: &writer)
        case .attest(let nonce):
            try writer.write(bytes: nonce.bytes, "nonce")
        case .ohttpOpen(let encapsulatedRequest, let chunked):
            try writer.write(bytes: encapsulatedRequest, "encapsulatedRequest")
            try writer.write(chunked, "chunked")
        case .injectSecrets(let envelope):
            try writer.write(bytes: envelope, "envelope")
        case .registerTLSCertificate(let sha256):
            try writer.write(bytes: sha256, "sha256")
        }
    }
}
