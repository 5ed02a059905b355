import Attestation
import Crypto
import EnclaveIPC
import Foundation
import GatewayContracts
import GatewayCore
import Logging
import OHTTP
import Synchronization

/// The key service's keys and state behind the `KeyServiceHandler` operations: the RSA-2048
/// signing key, the OHTTP gateway keys (X25519 and X-Wing, fresh per boot), the NSM, the TLS
/// certificate hash tls-front registered and the provider secrets.
///
/// Everything secret stays inside this value: callers get public keys, signatures over layouts
/// built here (never caller-chosen bytes), attestation documents whose `user_data` is built here,
/// and per-request OHTTP exporter secrets. Provider secrets leave only through
/// `providerSecrets()`, which the `PeerPolicy` restricts to workers.
/// The library that holds the RSA signing key. OpenSSL 3 is the default because it signs about
/// 2.5 times faster than BoringSSL here (docs/performance.md); BoringSSL (swift-crypto) stays
/// available and is the cross-check in the tests.
public enum SignerBackend: String, Sendable, CaseIterable {
    case openSSL = "openssl"
    case boringSSL = "boringssl"
}

public final class KeyService: KeyServiceHandler {
    public struct Configuration: Sendable {
        /// `SimulatedNSM` in dev and tests, `NSMDevice` in the enclave.
        public var nsm: any NSMInterface
        /// True only with the real NSM; reported in `/health` as `tee_enabled`.
        public var teeEnabled: Bool
        /// The measured operator key; without one, `injectSecrets` is refused as `forbidden`.
        public var operatorKey: OperatorKey?
        /// Secrets available from boot; only dev mode passes any (from the environment).
        public var initialSecrets: [String: String]
        /// Unix seconds; signatures and the heartbeat check use it. Tests pin it.
        public var clock: @Sendable () -> UInt64
        /// Which library holds the RSA key and signs. Both produce signatures the other verifies.
        public var signer: SignerBackend

        public init(
            nsm: any NSMInterface,
            teeEnabled: Bool,
            operatorKey: OperatorKey? = nil,
            initialSecrets: [String: String] = [:],
            clock: @escaping @Sendable () -> UInt64 = { UInt64(max(0, Date().timeIntervalSince1970)) },
            signer: SignerBackend = .openSSL
        ) {
            self.signer = signer
            self.nsm = nsm
            self.teeEnabled = teeEnabled
            self.operatorKey = operatorKey
            self.initialSecrets = initialSecrets
            self.clock = clock
        }
    }

    private struct State: Sendable {
        var tlsCertificateSHA256: [UInt8]?
        var secrets: [String: String]
        /// The counter of the last accepted injection; the next must be greater. 0 at boot, so
        /// the first envelope needs counter 1 or more.
        var lastCounter: UInt64 = 0
    }

    private let configuration: Configuration
    private let signingKey: any InferenceSigner
    private let ohttpKeys: OHTTPGatewayKeys
    private let publicKeyInfo: PublicKeyInfo
    private let configs: [OHTTPKeyConfig]
    private let started = ContinuousClock.now
    private let state: Mutex<State>
    private let logger: Logger

    /// Generates the boot's keys (RSA-2048 with e = 65537, one OHTTP key pair per shipped suite
    /// with distinct key ids). A new `KeyService` is a new `tee_id`.
    public init(configuration: Configuration, logger: Logger = Logger(label: "key-service")) throws(KeyServiceSetupError) {
        for (name, value) in configuration.initialSecrets {
            guard ProviderSecretNames.isValidName(name), ProviderSecretNames.valueBytes.contains(value.utf8.count) else {
                throw .invalidInitialSecret(name: name)
            }
        }
        do {
            switch configuration.signer {
            case .openSSL: signingKey = try OpenSSLSigningKey.generate()
            case .boringSSL: signingKey = try InferenceSigningKey.generate()
            }
        } catch {
            throw .signingKeyGeneration(String(describing: error))
        }
        do {
            ohttpKeys = try OHTTPGatewayKeys.generate()
        } catch {
            throw .ohttpKeyGeneration(error.description)
        }
        let verifying = signingKey.publicKey
        publicKeyInfo = PublicKeyInfo(spkiDER: verifying.spkiDER, pem: verifying.pem, teeID: verifying.teeID)
        configs = ohttpKeys.configs.map { config in
            OHTTPKeyConfig(
                keyID: config.keyID,
                kemID: config.kem.rawValue,
                kdfID: config.symmetricSuites.first?.kdfID ?? 0,
                aeadID: config.symmetricSuites.first?.aeadID ?? 0,
                publicKey: config.publicKey,
                keyConfig: config.encoded
            )
        }
        self.configuration = configuration
        self.state = Mutex(State(secrets: configuration.initialSecrets))
        self.logger = logger
    }

    public var teeID: TEEID { publicKeyInfo.teeID }

    // MARK: - Signing

    public func publicKey() async throws(KeyServiceError) -> PublicKeyInfo { publicKeyInfo }

    public func signInference(requestHash: Keccak256Digest, outputHash: Keccak256Digest) async throws(KeyServiceError) -> TEESignature {
        do {
            return try signingKey.sign(requestHash: requestHash, outputHash: outputHash, timestamp: configuration.clock())
        } catch {
            throw KeyServiceError(.internalError, "RSA-PSS signing failed")
        }
    }

    /// Signs only the two fixed layouts of `SignableRecord`: an OHTTP config must be one this
    /// key service holds the private key of; a heartbeat must not be dated after now.
    public func signRecord(_ record: SignableRecord) async throws(KeyServiceError) -> RecordSignature {
        let messageHash: Keccak256Digest
        switch record {
        case .ohttpConfig(let config):
            guard configs.contains(config) else {
                throw KeyServiceError(.malformed, "OHTTP config with key id \(config.keyID) is not one of this key service's configs")
            }
            do {
                messageHash = try OHTTPConfigHash.compute(teeID: teeID.digest.bytes, config: try KeyConfig(decoding: config.keyConfig))
            } catch {
                throw KeyServiceError(.internalError, "OHTTP config hash failed: \(error)")
            }
        case .heartbeat(let timestamp):
            let now = configuration.clock()
            guard timestamp <= now else {
                throw KeyServiceError(.malformed, "heartbeat timestamp \(timestamp) is ahead of the key service clock (\(now))")
            }
            messageHash = SignedMessage.heartbeat(teeID: teeID, timestamp: timestamp)
        }
        do {
            return RecordSignature(messageHash: messageHash, signature: try signingKey.sign(messageHash: messageHash))
        } catch {
            throw KeyServiceError(.internalError, "RSA-PSS signing failed")
        }
    }

    // MARK: - Attestation

    /// The `user_data` is `UserDataBinding`'s layout over the registered TLS certificate hash,
    /// the signing key SPKI and the OHTTP key config list. Before tls-front has registered its
    /// certificate there is nothing to bind the TLS channel to, so this answers `notReady`
    /// rather than attesting a document a client could not check against the served certificate.
    public func attest(nonce: AttestationNonce) async throws(KeyServiceError) -> [UInt8] {
        guard let tlsHash = state.withLock({ $0.tlsCertificateSHA256 }) else {
            throw KeyServiceError(.notReady, "no TLS certificate registered yet; tls-front registers it at startup")
        }
        let binding = try userDataBinding(tlsCertificateSHA256: tlsHash)
        do {
            return try configuration.nsm.attest(nonce: nonce.bytes, userData: binding.encoded(), publicKey: nil)
        } catch {
            logger.error("NSM attestation failed", metadata: ["error": "\(error)"])
            throw KeyServiceError(.internalError, "NSM attestation failed: \(error)")
        }
    }

    /// `UserDataBinding` hashes DER inputs itself, but key service only knows the certificate's
    /// hash, so the multihash entries are assembled here and checked by `UserDataBinding`'s parser.
    func userDataBinding(tlsCertificateSHA256: [UInt8]) throws(KeyServiceError) -> UserDataBinding {
        let multihash: [UInt8] = [0x12, 0x20]
        let digests = [
            tlsCertificateSHA256,
            UserDataBinding.digest(publicKeyInfo.spkiDER),
            UserDataBinding.digest(ohttpKeys.encodedConfigList),
        ]
        do {
            return try UserDataBinding(parsing: digests.flatMap { multihash + $0 })
        } catch {
            throw KeyServiceError(.internalError, "user_data did not round-trip: \(error)")
        }
    }

    public func registerTLSCertificate(sha256: [UInt8]) async throws(KeyServiceError) {
        guard sha256.count == SHA256.byteCount else {
            throw KeyServiceError(.malformed, "TLS certificate hash must be \(SHA256.byteCount) bytes, got \(sha256.count)")
        }
        state.withLock { $0.tlsCertificateSHA256 = sha256 }
        logger.info("TLS certificate registered", metadata: ["sha256": "\(Data(sha256).map { String(format: "%02x", $0) }.joined())"])
    }

    // MARK: - OHTTP

    public func ohttpConfigs() async throws(KeyServiceError) -> [OHTTPKeyConfig] { configs }

    public func ohttpOpen(encapsulatedRequest: [UInt8], chunked: Bool) async throws(KeyServiceError) -> OpenedOHTTPRequest {
        let opened = try decapsulate(encapsulatedRequest, chunked: chunked)
        let context = opened.responseContext
        return OpenedOHTTPRequest(
            plaintext: opened.plaintext,
            encapsulatedKey: context.encapsulatedKey,
            kemID: context.suite.kem.rawValue,
            kdfID: context.suite.kdf.rawValue,
            aeadID: context.suite.aead.rawValue,
            responseSecret: context.responseSecret,
            chunkedResponseSecret: context.chunkedResponseSecret
        )
    }

    /// One generic `malformed` for every decapsulation failure except an unknown key id, so
    /// the answer is no decryption oracle.
    private func decapsulate(_ request: [UInt8], chunked: Bool) throws(KeyServiceError) -> DecapsulatedRequest {
        do {
            return try chunked ? ohttpKeys.decapsulateChunked(request) : ohttpKeys.decapsulate(request)
        } catch .unknownKeyID(let keyID) {
            throw KeyServiceError(.unknownKeyID, "unknown OHTTP key id \(keyID); fetch the current key config")
        } catch {
            throw KeyServiceError(.malformed, "OHTTP request could not be decapsulated")
        }
    }

    // MARK: - Secrets

    public func providerSecrets() async throws(KeyServiceError) -> ProviderSecrets {
        ProviderSecrets(apiKeys: state.withLock { $0.secrets })
    }

    /// Checks, in this order: envelope shape, `tee_id`, operator signature, counter, then opens
    /// the sealed secrets. The signature is checked before the counter so an unauthenticated
    /// caller learns nothing about the counter. Accepted secrets replace keys of the same name
    /// and keep the others; the counter is consumed only when the whole envelope is accepted.
    public func injectSecrets(envelope bytes: [UInt8]) async throws(KeyServiceError) -> InjectedSecrets {
        guard let operatorKey = configuration.operatorKey else {
            throw KeyServiceError(.forbidden, "secret injection is disabled: key-service was started without --operator-key")
        }
        let envelope: InjectionEnvelope
        do {
            envelope = try InjectionEnvelope(parsing: bytes)
        } catch {
            throw KeyServiceError(.malformed, error.description)
        }
        guard envelope.teeID == teeID else {
            throw KeyServiceError(.malformed, "envelope is for tee_id \(envelope.teeID); this enclave is \(teeID)")
        }
        guard envelope.isSigned(by: operatorKey.publicKey) else {
            throw KeyServiceError(.unauthorized, "envelope signature does not verify with the configured operator key")
        }
        try checkCounter(envelope.counter, last: state.withLock { $0.lastCounter })
        let secrets = try Self.secrets(fromPlaintext: try decapsulate(envelope.sealed, chunked: false).plaintext)
        let providers = try state.withLock { state throws(KeyServiceError) -> [String] in
            try checkCounter(envelope.counter, last: state.lastCounter)
            var merged = state.secrets
            merged.merge(secrets) { _, new in new }
            guard merged.count <= ProviderSecretNames.maximumCount else {
                throw KeyServiceError(.malformed, "at most \(ProviderSecretNames.maximumCount) provider keys can be held")
            }
            state.lastCounter = envelope.counter
            state.secrets = merged
            return merged.keys.sorted()
        }
        logger.info("provider secrets injected", metadata: ["counter": "\(envelope.counter)", "names": "\(secrets.keys.sorted())"])
        return InjectedSecrets(providers: providers)
    }

    private func checkCounter(_ counter: UInt64, last: UInt64) throws(KeyServiceError) {
        guard counter > last else {
            throw KeyServiceError(.replay, "envelope counter \(counter) is not greater than the last accepted counter \(last)")
        }
    }

    /// The sealed plaintext: a JSON object of key names to non-empty API keys.
    static func secrets(fromPlaintext plaintext: [UInt8]) throws(KeyServiceError) -> [String: String] {
        let value: JSONValue
        do {
            value = try JSONParser(maxDepth: 2).parse(plaintext)
        } catch {
            // Only the offset: the parser's reason may quote a byte of a secret.
            throw KeyServiceError(.malformed, "sealed secrets are not valid JSON (problem at byte \(error.offset))")
        }
        guard let object = value.objectValue else {
            throw KeyServiceError(.malformed, "sealed secrets must be a JSON object of key names to strings, not \(value.typeName)")
        }
        guard (1...ProviderSecretNames.maximumCount).contains(object.count) else {
            throw KeyServiceError(.malformed, "sealed secrets must hold 1 to \(ProviderSecretNames.maximumCount) keys, got \(object.count)")
        }
        var secrets: [String: String] = [:]
        for (name, member) in object {
            guard ProviderSecretNames.isValidName(name) else {
                throw KeyServiceError(.malformed, "sealed secret name must be 1-64 characters of a-z, 0-9, '-' or '_'")
            }
            guard let key = member.stringValue, ProviderSecretNames.valueBytes.contains(key.utf8.count) else {
                throw KeyServiceError(.malformed, "sealed secret '\(name)' must be a string of 1 to 4096 bytes")
            }
            guard secrets.updateValue(key, forKey: name) == nil else {
                throw KeyServiceError(.malformed, "sealed secret '\(name)' appears twice")
            }
        }
        return secrets
    }

    // MARK: - Status

    public func health() async throws(KeyServiceError) -> KeyServiceHealth {
        let elapsed = ContinuousClock.now - started
        return KeyServiceHealth(
            teeID: teeID,
            teeEnabled: configuration.teeEnabled,
            providers: state.withLock { $0.secrets.keys.sorted() },
            uptimeSeconds: UInt64(max(0, elapsed.components.seconds))
        )
    }

    /// Keys are generated in `init`, so a `KeyService` that exists can serve every operation;
    /// `attest` alone waits for the TLS certificate and says so with `notReady`.
    public func ready() async -> Bool { true }
}

/// Why key-service could not start.
public enum KeyServiceSetupError: Error, Equatable, CustomStringConvertible {
    case signingKeyGeneration(String)
    case ohttpKeyGeneration(String)
    case invalidInitialSecret(name: String)

    public var description: String {
        switch self {
        case .signingKeyGeneration(let reason): "generating the RSA-2048 signing key failed: \(reason)"
        case .ohttpKeyGeneration(let reason): "generating the OHTTP gateway keys failed: \(reason)"
        case .invalidInitialSecret(let name):
            "provider secret '\(name)' is not usable: names are 1-64 of a-z, 0-9, '-', '_' and values 1-4096 bytes"
        }
    }
}
