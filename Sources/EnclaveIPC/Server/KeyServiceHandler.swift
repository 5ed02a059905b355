import GatewayCore

/// What the key service does; `KeyServiceServer` decodes requests, enforces the `PeerPolicy`
/// and calls one method per operation. The key-service executable implements it over the real
/// keys; tests implement it in-process.
///
/// Methods run concurrently (many connections, many requests per connection), so conformers
/// must be safe to call in parallel. A thrown `KeyServiceError` is sent to the caller as is:
/// its message must never contain key material, secrets or request content.
public protocol KeyServiceHandler: Sendable {
    func publicKey() async throws(KeyServiceError) -> PublicKeyInfo

    /// Takes the timestamp from the key service's own clock and signs the preimage it builds
    /// from the two hashes; never signs caller-chosen bytes.
    func signInference(requestHash: Keccak256Digest, outputHash: Keccak256Digest) async throws(KeyServiceError) -> TEESignature

    func signRecord(_ record: SignableRecord) async throws(KeyServiceError) -> RecordSignature

    /// Returns the COSE_Sign1 attestation document; `user_data` is built by the key service.
    func attest(nonce: AttestationNonce) async throws(KeyServiceError) -> [UInt8]

    func ohttpConfigs() async throws(KeyServiceError) -> [OHTTPKeyConfig]

    /// Throws `unknownKeyID` for a key id it does not hold and `malformed` for anything that
    /// fails to decapsulate (one generic error, so it is no decryption oracle). `chunked` says
    /// the body is `message/ohttp-chunked-req` rather than `message/ohttp-req`.
    func ohttpOpen(encapsulatedRequest: [UInt8], chunked: Bool) async throws(KeyServiceError) -> OpenedOHTTPRequest

    func providerSecrets() async throws(KeyServiceError) -> ProviderSecrets

    /// Throws `unauthorized` for a bad operator signature, `replay` for a reused counter and
    /// `malformed` for an envelope that does not parse (ARCHITECTURE §5.3).
    func injectSecrets(envelope: [UInt8]) async throws(KeyServiceError) -> InjectedSecrets

    /// `sha256` is the SHA-256 of the TLS certificate DER tls-front serves (32 bytes, checked on
    /// decode); it becomes the first `user_data` entry of every attestation document.
    func registerTLSCertificate(sha256: [UInt8]) async throws(KeyServiceError)

    func health() async throws(KeyServiceError) -> KeyServiceHealth

    func ready() async -> Bool
}

extension KeyServiceHandler {
    /// Runs the handler method for `request` and wraps the outcome as a response.
    func response(to request: KeyServiceRequest) async -> KeyServiceResponse {
        do {
            switch request {
            case .publicKey:
                return .publicKey(try await publicKey())
            case .signInference(let requestHash, let outputHash):
                return .signInference(try await signInference(requestHash: requestHash, outputHash: outputHash))
            case .signRecord(let record):
                return .signRecord(try await signRecord(record))
            case .attest(let nonce):
                return .attest(document: try await attest(nonce: nonce))
            case .ohttpConfigs:
                return .ohttpConfigs(try await ohttpConfigs())
            case .ohttpOpen(let encapsulatedRequest, let chunked):
                return .ohttpOpen(try await ohttpOpen(encapsulatedRequest: encapsulatedRequest, chunked: chunked))
            case .providerSecrets:
                return .providerSecrets(try await providerSecrets())
            case .injectSecrets(let envelope):
                return .injectSecrets(try await injectSecrets(envelope: envelope))
            case .registerTLSCertificate(let sha256):
                try await registerTLSCertificate(sha256: sha256)
                return .registerTLSCertificate
            case .health:
                return .health(try await health())
            case .ready:
                return .ready(await ready())
            }
        } catch {
            return .failure(error)
        }
    }
}
