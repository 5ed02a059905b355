import GatewayCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The key-service connection of one process (a worker, tls-front, the supervisor).
///
/// All requests share one connection and are matched to responses by id, so concurrent callers
/// never wait on each other: the server handles the requests of a connection concurrently. A
/// pool of connections would add sockets and peer checks without adding parallelism.
///
/// `run()` owns the connection: it connects, reconnects with exponential backoff when the key
/// service restarts or is not up yet, and returns when its task is cancelled. Requests made
/// while disconnected wait (within their timeout) and go out on the next connection. A request
/// already sent when the connection drops fails with `connectionLost` and is never resent,
/// because the key service may have acted on it.
///
/// ```swift
/// let keys = KeyServiceClient(endpoint: try Endpoint(parsing: "unix:///run/enclave/key-service.sock"))
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await keys.run() }
///     let info = try await keys.publicKey()
///     …
///     group.cancelAll()
/// }
/// ```
public final class KeyServiceClient: Sendable {
    public struct Configuration: Sendable {
        /// From registering a request until its response, including waiting for a connection.
        public var requestTimeout: Duration
        public var connectTimeout: Duration
        /// Reconnect delays double from the minimum up to the maximum while connecting fails.
        public var minimumReconnectDelay: Duration
        public var maximumReconnectDelay: Duration
        public var maximumFrameSize: Int

        public init(
            requestTimeout: Duration = .seconds(10),
            connectTimeout: Duration = .seconds(2),
            minimumReconnectDelay: Duration = .milliseconds(50),
            maximumReconnectDelay: Duration = .seconds(2),
            maximumFrameSize: Int = Framing.defaultMaximumFrameSize
        ) {
            self.requestTimeout = requestTimeout
            self.connectTimeout = connectTimeout
            self.minimumReconnectDelay = minimumReconnectDelay
            self.maximumReconnectDelay = maximumReconnectDelay
            self.maximumFrameSize = maximumFrameSize
        }
    }

    public let endpoint: Endpoint
    private let configuration: Configuration
    private let logger: Logger
    private let group: any EventLoopGroup
    private let state = Mutex(ClientState())

    public init(
        endpoint: Endpoint,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "enclave-ipc.key-service-client"),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.logger = logger
        self.group = group
    }

    // MARK: - Operations

    public func publicKey() async throws(KeyServiceClientError) -> PublicKeyInfo {
        try await call(.publicKey) { if case .publicKey(let value) = $0 { value } else { nil } }
    }

    public func signInference(requestHash: Keccak256Digest, outputHash: Keccak256Digest) async throws(KeyServiceClientError) -> TEESignature {
        let signature = try await call(.signInference(requestHash: requestHash, outputHash: outputHash)) {
            if case .signInference(let value) = $0 { value } else { nil }
        }
        // The response repeats the hashes so callers attach exactly what was signed; a response
        // for other hashes (a confused or hostile peer) must never reach a client.
        guard signature.requestHash == requestHash, signature.outputHash == outputHash else {
            throw .invalidResponse(.signInference, reason: "the signature covers other hashes than the ones sent")
        }
        return signature
    }

    public func signRecord(_ record: SignableRecord) async throws(KeyServiceClientError) -> RecordSignature {
        try await call(.signRecord(record)) { if case .signRecord(let value) = $0 { value } else { nil } }
    }

    /// Returns the COSE_Sign1 attestation document.
    public func attest(nonce: AttestationNonce) async throws(KeyServiceClientError) -> [UInt8] {
        try await call(.attest(nonce: nonce)) { if case .attest(let value) = $0 { value } else { nil } }
    }

    public func ohttpConfigs() async throws(KeyServiceClientError) -> [OHTTPKeyConfig] {
        try await call(.ohttpConfigs) { if case .ohttpConfigs(let value) = $0 { value } else { nil } }
    }

    /// `chunked`: the body is a `message/ohttp-chunked-req` (draft-ietf-ohai-chunked-ohttp-08).
    public func ohttpOpen(
        encapsulatedRequest: [UInt8], chunked: Bool = false
    ) async throws(KeyServiceClientError) -> OpenedOHTTPRequest {
        try await call(.ohttpOpen(encapsulatedRequest: encapsulatedRequest, chunked: chunked)) {
            if case .ohttpOpen(let value) = $0 { value } else { nil }
        }
    }

    public func providerSecrets() async throws(KeyServiceClientError) -> ProviderSecrets {
        try await call(.providerSecrets) { if case .providerSecrets(let value) = $0 { value } else { nil } }
    }

    public func injectSecrets(envelope: [UInt8]) async throws(KeyServiceClientError) -> InjectedSecrets {
        try await call(.injectSecrets(envelope: envelope)) { if case .injectSecrets(let value) = $0 { value } else { nil } }
    }

    /// `sha256`: SHA-256 of the certificate DER, 32 bytes (the key service refuses other lengths).
    public func registerTLSCertificate(sha256: [UInt8]) async throws(KeyServiceClientError) {
        try await call(.registerTLSCertificate(sha256: sha256)) {
            if case .registerTLSCertificate = $0 { () } else { nil }
        }
    }

    public func health() async throws(KeyServiceClientError) -> KeyServiceHealth {
        try await call(.health) { if case .health(let value) = $0 { value } else { nil } }
    }

    public func ready() async throws(KeyServiceClientError) -> Bool {
        try await call(.ready) { if case .ready(let value) = $0 { value } else { nil } }
    }

    // MARK: - Connection

    /// Whether the client has a connection to key-service right now. A call that timed out
    /// while connected met a busy key-service (or a busy caller); one that timed out while not
    /// connected met none at all.
    public var isConnected: Bool {
        state.withLock { state in
            if case .connected = state.connection { return true }
            return false
        }
    }

    /// Keeps a connection to `endpoint` until the task is cancelled. Call it once per client,
    /// in a task that lives as long as the client is used; when it returns, pending and later
    /// requests fail with `shutDown`.
    public func run() async throws(KeyServiceClientError) {
        guard state.withLock({ $0.start() }) else { throw .alreadyRunning }
        var failedAttempts = 0
        while !Task.isCancelled {
            let reason: String
            do {
                reason = try await connectAndServe()
                failedAttempts = 0
            } catch {
                failedAttempts += 1
                reason = "\(error)"
            }
            resume(state.withLock { $0.disconnected(reason: reason) })
            if Task.isCancelled { break }
            // Once per outage at info; the retries while the key service stays away at debug.
            logger.log(
                level: failedAttempts <= 1 ? .info : .debug,
                "key-service connection down; reconnecting",
                metadata: ["endpoint": "\(endpoint)", "reason": "\(reason)"]
            )
            try? await Task.sleep(for: reconnectDelay(afterFailedAttempts: failedAttempts))
        }
        resume(state.withLock { $0.finish() })
    }

    /// Serves one connection until it closes; returns why it closed.
    private func connectAndServe() async throws -> String {
        let maximumFrameSize = configuration.maximumFrameSize
        let channel = try await endpoint.connect(group: group, timeout: configuration.connectTimeout) { channel in
            channel.eventLoop.makeCompletedFuture { try Framing.wrap(channel, maximumFrameSize: maximumFrameSize) }
        }
        logger.debug("connected to key service", metadata: ["endpoint": "\(endpoint)"])
        return try await channel.executeThenClose { responses, requests in
            for frame in state.withLock({ $0.connected(requests) }) {
                try await requests.write(frame)
            }
            for try await frame in responses {
                try receive(frame)
            }
            return "the key service closed the connection"
        }
    }

    private func receive(_ frame: ByteBuffer) throws(KeyServiceProtocolError) {
        let id: UInt64
        let outcome: Result<KeyServiceResponse, KeyServiceClientError>
        do throws(KeyServiceProtocolError) {
            let decoded = try KeyServiceCodec.decodeResponse(frame)
            guard decoded.id != 0 else {
                let report = if case .failure(let error) = decoded.response { error.description } else { decoded.response.type }
                throw KeyServiceProtocolError(.invalidValue(field: "id", reason: "the key service could not read a request: \(report)"))
            }
            (id, outcome) = (decoded.id, .success(decoded.response))
        } catch {
            // Without a known id the stream cannot be trusted: closing it fails what was sent.
            guard let errorID = error.id, let operation = state.withLock({ $0.operation(of: errorID) }) else { throw error }
            (id, outcome) = (errorID, .failure(.invalidResponse(operation, reason: error.description)))
        }
        // No continuation and no entry means the caller gave up (timeout); the answer is dropped.
        state.withLock { $0.complete(id, with: outcome) }?.resume(with: outcome.mapError { $0 })
    }

    private func reconnectDelay(afterFailedAttempts attempts: Int) -> Duration {
        let doubled = configuration.minimumReconnectDelay * (1 << min(attempts, 16))
        return min(doubled, configuration.maximumReconnectDelay)
    }

    // MARK: - Requests

    private func call<Value>(
        _ request: KeyServiceRequest,
        _ extract: (KeyServiceResponse) -> Value?
    ) async throws(KeyServiceClientError) -> Value {
        let operation = request.operation
        let id = state.withLock { $0.allocateID() }
        let frame: ByteBuffer
        do {
            frame = try KeyServiceCodec.encode(request, id: id)
        } catch {
            throw .invalidRequest(operation, reason: error.description)
        }
        guard frame.readableBytes <= configuration.maximumFrameSize else {
            throw .invalidRequest(
                operation,
                reason: "encoded request is \(frame.readableBytes) bytes; the frame limit is \(configuration.maximumFrameSize)"
            )
        }
        let writer: ClientState.Writer?
        switch state.withLock({ $0.register(id, operation, frame: frame) }) {
        case .write(let connected): writer = connected
        case .queued: writer = nil
        case .refused(let error): throw error
        }

        let response: KeyServiceResponse?
        do {
            response = try await withDeadline(configuration.requestTimeout) {
                if let writer { await self.write(frame, id: id, operation: operation, to: writer) }
                return try await self.response(to: id)
            }
        } catch let error as KeyServiceClientError {
            throw error
        } catch {
            throw .cancelled(operation)
        }
        guard let response else {
            throw .timeout(operation, after: configuration.requestTimeout, detail: timeoutDetail())
        }
        if case .failure(let error) = response { throw .server(error) }
        guard let value = extract(response) else {
            throw .invalidResponse(operation, reason: "expected a \(operation) response, got \(response.type)")
        }
        return value
    }

    private func write(_ frame: ByteBuffer, id: UInt64, operation: KeyServiceOperation, to writer: ClientState.Writer) async {
        do {
            try await writer.write(frame)
        } catch {
            let outcome = Result<KeyServiceResponse, KeyServiceClientError>.failure(
                .connectionLost(operation, reason: "write failed: \(error)")
            )
            state.withLock { $0.complete(id, with: outcome) }?.resume(with: outcome.mapError { $0 })
        }
    }

    /// Waits for the outcome of request `id`; cancellation (timeout or caller) forgets the request.
    private func response(to id: UInt64) async throws -> KeyServiceResponse {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if let known = state.withLock({ $0.wait(id, with: continuation) }) {
                    continuation.resume(with: known)
                }
            }
        } onCancel: {
            state.withLock { $0.remove(id) }?.resume(throwing: CancellationError())
        }
    }

    private func timeoutDetail() -> String {
        state.withLock { state in
            switch (state.lifecycle, state.connection) {
            case (.idle, _):
                return "KeyServiceClient.run() has not been started"
            case (_, .connected):
                return "connected to \(endpoint), but no response arrived"
            case (_, .disconnected(let lastError)):
                return "not connected to \(endpoint)" + (lastError.map { "; last error: \($0)" } ?? "")
            }
        }
    }

    private func resume(_ failures: [(ClientState.Continuation, KeyServiceClientError)]) {
        for (continuation, error) in failures {
            continuation.resume(throwing: error)
        }
    }
}
