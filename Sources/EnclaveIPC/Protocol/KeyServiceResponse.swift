import GatewayCore

/// One key-service response: the success payload of the request's operation, or a typed error.
enum KeyServiceResponse: Equatable, Sendable {
    case publicKey(PublicKeyInfo)
    case signInference(TEESignature)
    case signRecord(RecordSignature)
    case attest(document: [UInt8])
    case ohttpConfigs([OHTTPKeyConfig])
    case ohttpOpen(OpenedOHTTPRequest)
    case providerSecrets(ProviderSecrets)
    case injectSecrets(InjectedSecrets)
    case registerTLSCertificate
    case health(KeyServiceHealth)
    case ready(Bool)
    case failure(KeyServiceError)

    /// The wire `type` of an error response.
    static let errorType = "error"

    /// The wire `type`: the operation name for successes, `error` for failures.
    var type: String {
        switch self {
        case .publicKey: KeyServiceOperation.publicKey.rawValue
        case .signInference: KeyServiceOperation.signInference.rawValue
        case .signRecord: KeyServiceOperation.signRecord.rawValue
        case .attest: KeyServiceOperation.attest.rawValue
        case .ohttpConfigs: KeyServiceOperation.ohttpConfigs.rawValue
        case .ohttpOpen: KeyServiceOperation.ohttpOpen.rawValue
        case .providerSecrets: KeyServiceOperation.providerSecrets.rawValue
        case .injectSecrets: KeyServiceOperation.injectSecrets.rawValue
        case .registerTLSCertificate: KeyServiceOperation.registerTLSCertificate.rawValue
        case .health: KeyServiceOperation.health.rawValue
        case .ready: KeyServiceOperation.ready.rawValue
        case .failure: Self.errorType
        }
    }

    static func fields(ofType type: String) -> Set<String>? {
        if type == errorType { return ["code", "message"] }
        guard let operation = KeyServiceOperation(rawValue: type) else { return nil }
        switch operation {
        case .publicKey: return PublicKeyInfo.fields
        case .signInference: return TEESignature.wireFields
        case .signRecord: return RecordSignature.fields
        case .attest: return ["document"]
        case .ohttpConfigs: return ["configs"]
        case .ohttpOpen: return OpenedOHTTPRequest.fields
        case .providerSecrets: return ProviderSecrets.fields
        case .injectSecrets: return InjectedSecrets.fields
        case .registerTLSCertificate: return []
        case .health: return KeyServiceHealth.fields
        case .ready: return ["ready"]
        }
    }

    init(type: String, from reader: WireReader) throws(KeyServiceProtocolError) {
        if type == Self.errorType {
            let codeText = try reader.string("code", maximumBytes: 64)
            guard let code = KeyServiceError.Code(rawValue: codeText) else {
                throw KeyServiceProtocolError(.invalidValue(field: "code", reason: "unknown error code '\(codeText)'"))
            }
            self = .failure(KeyServiceError(code, try reader.string("message", maximumBytes: KeyServiceError.maximumMessageBytes)))
            return
        }
        guard let operation = KeyServiceOperation(rawValue: type) else { throw KeyServiceProtocolError(.unknownType(type)) }
        switch operation {
        case .publicKey: self = .publicKey(try PublicKeyInfo(from: reader))
        case .signInference: self = .signInference(try TEESignature(from: reader))
        case .signRecord: self = .signRecord(try RecordSignature(from: reader))
        case .attest: self = .attest(document: try reader.bytes("document", length: Limits.attestationDocument))
        case .ohttpConfigs:
            var configs: [OHTTPKeyConfig] = []
            for config in try reader.objects("configs", maximumCount: Limits.ohttpConfigCount, fields: OHTTPKeyConfig.fields) {
                configs.append(try OHTTPKeyConfig(from: config))
            }
            self = .ohttpConfigs(configs)
        case .ohttpOpen: self = .ohttpOpen(try OpenedOHTTPRequest(from: reader))
        case .providerSecrets: self = .providerSecrets(try ProviderSecrets(from: reader))
        case .injectSecrets: self = .injectSecrets(try InjectedSecrets(from: reader))
        case .registerTLSCertificate: self = .registerTLSCertificate
        case .health: self = .health(try KeyServiceHealth(from: reader))
        case .ready: self = .ready(try reader.bool("ready"))
        }
    }

    func write(to writer: inout WireWriter) throws {
        switch self {
        case .publicKey(let info): try info.write(to: &writer)
        case .signInference(let signature): try signature.write(to: &writer)
        case .signRecord(let signature): try signature.write(to: &writer)
        case .attest(let document): try writer.write(bytes: document, "document")
        case .ohttpConfigs(let configs):
            try writer.writeObjects(configs, "configs") { writer, config in try config.write(to: &writer) }
        case .ohttpOpen(let opened): try opened.write(to: &writer)
        case .providerSecrets(let secrets): try secrets.write(to: &writer)
        case .injectSecrets(let injected): try injected.write(to: &writer)
        case .registerTLSCertificate: break
        case .health(let health): try health.write(to: &writer)
        case .ready(let ready): try writer.write(ready, "ready")
        case .failure(let error):
            try writer.write(error.code.rawValue, "code")
            try writer.write(error.message, "message")
        }
    }
}
