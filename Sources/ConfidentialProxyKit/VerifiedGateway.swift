import AsyncHTTPClient
import Attestation
import Foundation
import GatewayClient
import GatewayCore
import Logging
import NIOCore
import NIOHTTP1
import OHTTP

/// The attested gateway behind the proxy: attests on first use and on a schedule, seals each
/// request to the attested OHTTP key, sends it directly (pinned TLS) or through the relay, and
/// hands back the opened answer with its `tee_*` checks.
///
/// When the gateway no longer knows our OHTTP key id (422), no longer serves the attested
/// certificate, or an answer's signature does not verify, the enclave may have restarted with
/// new keys: it re-attests once and, if the request can still be repeated, retries it once.
public actor VerifiedGateway {
    /// What `status` and `/_proxy/status` report.
    public struct Snapshot: Sendable, Codable {
        public var gateway: String
        public var relay: String?
        public var teeID: String?
        public var lastVerified: Date?
        public var attested: Bool
        public var suite: String

        enum CodingKeys: String, CodingKey {
            case gateway, relay, attested, suite
            case teeID = "tee_id"
            case lastVerified = "last_verified"
        }
    }

    private let settings: ProxySettings
    private let verifier: AttestationVerifier
    private let measurements: Measurements?
    private let logger: Logger
    private let cache: AttestationCache?
    private let relayURL: String?
    private var client: ObliviousClient?
    private var verifiedAt: ContinuousClock.Instant?
    private var verifiedDate: Date?
    private var attesting: Task<ObliviousClient, any Error>?

    public init(settings: ProxySettings, logger: Logger, cache: AttestationCache?) throws(ProxyStartError) {
        self.settings = settings
        self.logger = logger
        self.cache = cache
        relayURL = settings.isDirect ? nil : Self.relayURL(settings.proxyURL)
        do {
            if let devRoot = settings.trust.devRootPath {
                guard let data = FileManager.default.contents(atPath: devRoot) else {
                    throw ProxyStartError("--dev-root \(devRoot): cannot read the file")
                }
                verifier = AttestationVerifier(trustAnchors: try TrustAnchors.awsNitro(plusDevRootPEM: String(decoding: data, as: UTF8.self)))
            } else {
                verifier = AttestationVerifier(trustAnchors: try TrustAnchors.awsNitro())
            }
        } catch let error as ProxyStartError {
            throw error
        } catch {
            throw ProxyStartError("--dev-root \(settings.trust.devRootPath ?? ""): \(error)")
        }
        var expected: Measurements?
        if let path = settings.trust.measurementsPath {
            do { expected = try Measurements(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw ProxyStartError("--measurements \(path): \(error)")
            }
        }
        if !settings.trust.pcrs.isEmpty {
            var pcrs = expected?.pcrs ?? [:]
            for (index, value) in settings.trust.pcrs { pcrs[index] = value }
            expected = Measurements(pcrs: pcrs)
        }
        measurements = expected
    }

    /// `https://relay[:port]` → `https://relay[:port]/v1/ohttp`; a URL with a path is used as is.
    static func relayURL(_ text: String) -> String {
        guard let components = URLComponents(string: text), components.path.isEmpty || components.path == "/" else { return text }
        var trimmed = text
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed + "/v1/ohttp"
    }

    public var snapshot: Snapshot {
        Snapshot(
            gateway: settings.enclaveURL, relay: relayURL, teeID: client?.gateway.signingKey.teeID.description,
            lastVerified: verifiedDate, attested: !settings.trust.noAttest, suite: settings.suite == .xWing ? "xwing" : "x25519")
    }

    /// Attests now (at start, on schedule, after a sign of an enclave restart). Concurrent
    /// callers share one attestation.
    @discardableResult
    public func attest(reason: String) async throws -> ObliviousClient {
        if let attesting { return try await attesting.value }
        let task = Task { try await self.performAttestation(reason: reason) }
        attesting = task
        defer { attesting = nil }
        return try await task.value
    }

    private func performAttestation(reason: String) async throws -> ObliviousClient {
        logger.info("attesting the gateway", metadata: ["gateway": "\(settings.enclaveURL)", "reason": "\(reason)"])
        let attestation: GatewayAttestation
        do {
            attestation = try await GatewayAttestation.attest(url: settings.enclaveURL, verifier: verifier, measurements: measurements)
        } catch {
            throw GatewayUnavailable("cannot fetch the gateway's attestation from \(settings.enclaveURL): \(error)")
        }
        let next: ObliviousClient
        if settings.trust.noAttest {
            logger.warning(
                "--no-attest: the gateway's attestation is NOT verified; answers are checked only against the key it serves",
                metadata: ["unverified": "\(attestation.report.failures.map(\.description).joined(separator: "; "))"])
            next = ObliviousClient(unattested: attestation)
        } else {
            do { next = try ObliviousClient(gateway: attestation) } catch {
                logger.error("attestation failed", metadata: ["reason": "\(error.description)"])
                throw error
            }
        }
        _ = try next.config(for: settings.suite)
        let teeID = attestation.signingKey.teeID.description
        if let previous = client?.gateway.signingKey.teeID.description, previous != teeID {
            logger.notice("the enclave changed (restart or new image): new tee_id", metadata: ["previous": "\(previous)", "tee_id": "\(teeID)"])
        }
        client = next
        verifiedAt = .now
        verifiedDate = Date()
        logger.info("gateway verified", metadata: ["tee_id": "\(teeID)", "attested": "\(!settings.trust.noAttest)"])
        cache?.store(attestation, attested: !settings.trust.noAttest, logger: logger)
        return next
    }

    private func currentClient() async throws -> ObliviousClient {
        if let client, let verifiedAt, verifiedAt.duration(to: .now) < settings.reattestInterval { return client }
        return try await attest(reason: client == nil ? "first use" : "scheduled re-check")
    }

    /// Sends one inner request and returns its opened, checked answer. `onEvent` receives each
    /// SSE event as soon as its sealed chunk is authentic; once it has been called the request is
    /// not repeated (the client already saw part of the answer).
    public func send(
        _ request: ObliviousRequest, headers: [OHTTP.HTTPField], onEvent: (@Sendable (SSEEvent) -> Void)? = nil
    ) async throws -> ObliviousAnswer {
        let started = StartedFlag()
        let forward: (@Sendable (SSEEvent) -> Void)?
        if let onEvent {
            forward = { @Sendable event in
                started.set()
                onEvent(event)
            }
        } else {
            forward = nil
        }
        let first = try await currentClient()
        do {
            let answer = try await first.send(request, headers: headers, kem: settings.suite, transport: transport(for: first), onEvent: forward)
            guard answer.signed, answer.checks.hasFailures, !started.value else { return answer }
            let before = first.gateway.signingKey.teeID.description
            let again = try await attest(reason: "an answer's tee_* checks failed")
            guard again.gateway.signingKey.teeID.description != before else { return answer }
            logger.notice("retrying once after re-attestation (new tee_id)")
            return try await again.send(request, headers: headers, kem: settings.suite, transport: transport(for: again), onEvent: forward)
        } catch let error where Self.suggestsNewEnclave(error) && !started.value {
            logger.notice("re-attesting and retrying once", metadata: ["reason": "\(error)"])
            let again = try await attest(reason: "\(error)")
            return try await again.send(request, headers: headers, kem: settings.suite, transport: transport(for: again), onEvent: forward)
        }
    }

    /// 422 (unknown OHTTP key id) or a certificate that is no longer the attested one.
    static func suggestsNewEnclave(_ error: any Error) -> Bool {
        switch error {
        case ObliviousClientError.refused(let status, _, _): status == 422
        case GatewayFetchError.certificateNotAttested: true
        default: false
        }
    }

    private func transport(for client: ObliviousClient) -> ObliviousTransport {
        if let relayURL { return Self.relayTransport(relayURL) }
        let gateway = client.gateway
        return { sealed, contentType, accept, onHead, onChunk in
            _ = try await GatewayConnection(endpoint: gateway.endpoint, policy: gateway.pinnedPolicy).run { session in
                try await session.stream(
                    "POST", "/v1/ohttp", accept: accept, contentType: contentType, body: sealed, onHead: onHead, onChunk: onChunk)
            }
        }
    }

    /// The relay sees ciphertext only; an https relay is checked by the web PKI like any host.
    static func relayTransport(_ url: String) -> ObliviousTransport {
        { sealed, contentType, accept, onHead, onChunk in
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: contentType)
            request.headers.add(name: "Accept", value: accept)
            request.body = .bytes(ByteBuffer(bytes: sealed))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
            try await onHead(response.status.code, response.headers.first(name: "content-type"))
            for try await buffer in response.body { try await onChunk(Array(buffer.readableBytesView)) }
        }
    }
}

/// Set once the first event went to the client.
private final class StartedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var started = false
    func set() { lock.withLock { started = true } }
    var value: Bool { lock.withLock { started } }
}

/// The gateway could not be reached or did not answer with attestation evidence.
public struct GatewayUnavailable: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The proxy cannot start: the message says what to fix.
public struct ProxyStartError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
