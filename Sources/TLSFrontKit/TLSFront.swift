import AsyncHTTPClient
import EnclaveIPC
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The enclave's public front door (ARCHITECTURE §2): terminates TLS with a certificate made
/// at start, answers `/health` and `/enclave/*` itself, forwards everything else to the worker
/// pool.
///
/// `run()` registers the certificate hash with the key service *before* it listens, so no
/// client can ever see a certificate the attestation document does not bind. `shutdown()`
/// stops accepting, lets in-flight requests finish (up to the drain timeout), then makes
/// `run()` return.
public final class TLSFront: Sendable {
    public let configuration: TLSFrontConfiguration
    public let certificate: ServerCertificate
    public let pool: WorkerPool
    private let keys: KeyServiceClient
    private let logger: Logger
    private let inFlight = Mutex(0)
    private let limiter: ConnectionLimiter
    private let keyServiceWatch: KeyServiceWatch
    private let startedAt = ContinuousClock.now
    private let stopSignal: AsyncStream<Void>
    private let stopContinuation: AsyncStream<Void>.Continuation

    public init(configuration: TLSFrontConfiguration, logger: Logger = Logger(label: "tls-front")) throws(TLSFrontError) {
        for worker in configuration.workers { try WorkerAddress.validate(worker) }
        guard configuration.maximumBodyBytes > 0 else {
            throw .invalidConfiguration("the body limit must be at least 1 byte, got \(configuration.maximumBodyBytes)")
        }
        guard configuration.maximumConnections > 0, configuration.maximumConnectionsPerClient >= 0 else {
            throw .invalidConfiguration(
                "the connection limits must be at least 1 in total and 0 (no cap) or more per client, got "
                    + "\(configuration.maximumConnections) and \(configuration.maximumConnectionsPerClient)")
        }
        do {
            certificate = try ServerCertificate.generate(subjectAlternativeNames: configuration.subjectAlternativeNames)
        } catch {
            throw .invalidConfiguration(error.description)
        }
        self.configuration = configuration
        self.logger = logger
        pool = WorkerPool(members: configuration.workers)
        limiter = ConnectionLimiter(
            maximumTotal: configuration.maximumConnections, maximumPerClient: configuration.maximumConnectionsPerClient
        )
        keys = KeyServiceClient(endpoint: configuration.keyService, logger: logger)
        keyServiceWatch = KeyServiceWatch(logger: logger)
        (stopSignal, stopContinuation) = AsyncStream<Void>.makeStream()
    }

    /// Begins a graceful stop; `run()` returns once in-flight requests are done.
    public func shutdown() {
        stopContinuation.finish()
    }

    /// Requests being answered right now (local routes and proxied ones).
    public var requestsInFlight: Int { inFlight.withLock { $0 } }

    /// Serves until `shutdown()` or cancellation. `onListening` gets the bound endpoint (with
    /// the OS-chosen port for `tcp://…:0`) once the certificate is registered and the listener
    /// is up.
    public func run(onListening: @Sendable (Endpoint) async -> Void = { _ in }) async throws {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.httpVersion = .http1Only
        clientConfiguration.decompression = .disabled
        // Also how long a request waits for a free worker connection. A worker that is gone
        // refuses at once (no listener on its socket), so this only waits on a worker that is
        // busy accepting: 10,000 clients arriving together kept the workers' accept loops
        // behind by more than the 2 s it used to be, and 3,029 streams got 503.
        clientConfiguration.timeout.connect = .seconds(10)
        clientConfiguration.connectionPool.idleTimeout = .seconds(30)
        // One connection per request in flight: an HTTP/1.1 connection carries one request at a
        // time, and a stream holds its connection for as long as it runs. AsyncHTTPClient's
        // default of 8 per worker queued every request past the 16th, and a queued request
        // failed after the connect timeout (2 s) with a 502: 234 of 256 concurrent streams in
        // the benchmark. The client connection limit already bounds this number.
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = configuration.maximumConnections
        // A worker that refuses connections is gone (crashed, or stopped): fail at once so the
        // proxy can send the request to another worker, instead of AsyncHTTPClient retrying the
        // same socket with backoff until the request times out.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        // No tracing spans: nothing here collects them, yet building each request's span and its
        // attributes (URL, method, body size) was 2.6% of tls-front's CPU in the profile.
        clientConfiguration.tracing.tracer = nil
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        do {
            try await serve(client: client, onListening: onListening)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private func serve(client: HTTPClient, onListening: @Sendable (Endpoint) async -> Void) async throws {
        let checker = WorkerHealthChecker(
            pool: pool, client: client, interval: configuration.healthCheckInterval, timeout: .seconds(2), logger: logger
        )
        let proxy = WorkerProxy(
            pool: pool, client: client, requestTimeout: configuration.requestTimeout,
            queueTimeout: configuration.queueTimeout, maximumBodyBytes: configuration.maximumBodyBytes,
            keyService: keyServiceWatch, logger: logger
        )
        let routes = EnclaveRoutes(keys: keys, pool: pool, keyServiceWatch: keyServiceWatch, version: configuration.version, logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try? await self.keys.run() }
            try await registerCertificate()
            group.addTask { await checker.run() }
            group.addTask {
                // A key-service that comes back may be a new one (new keys, `--restart-key-service`),
                // which has no certificate registered: register again, or attestation would not
                // bind the certificate clients see. Registering the same hash twice is harmless.
                await self.keyServiceWatch.run(self.configuration.keyService) {
                    do {
                        try await self.registerCertificate()
                    } catch {
                        self.logger.error("could not register the TLS certificate again", metadata: ["error": "\(error)"])
                    }
                }
            }

            let listener = try await bindHTTPS(routes: routes, proxy: proxy)
            if let control = configuration.control {
                let controlServer = ControlServer(
                    pool: pool, checker: checker, drainTimeout: configuration.drainTimeout,
                    status: { [self] in statusLine(listen: listener.endpoint) }, logger: logger
                )
                let controlListener = try await control.bind { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
                group.addTask {
                    // Cancelled once the listener has drained: the normal end of a graceful stop,
                    // which must not make `run()` throw (tls-front would exit 1).
                    do {
                        try await controlServer.serve(controlListener)
                    } catch where Task.isCancelled {}
                }
            }
            logger.info(
                "tls-front listening",
                metadata: ["endpoint": "\(listener.endpoint)", "certificate-sha256": "\(certificate.fingerprint)"]
            )
            await onListening(listener.endpoint)
            try await acceptConnections(listener)
            group.cancelAll()
        }
    }

    /// Retries while the key service is starting; a refusal (or no answer within the
    /// registration timeout) is fatal, see `TLSFrontError.certificateRegistrationFailed`.
    private func registerCertificate() async throws {
        let deadline = ContinuousClock.now + configuration.registrationTimeout
        while true {
            do {
                try await keys.registerTLSCertificate(sha256: certificate.sha256)
                logger.info("TLS certificate registered with the key service", metadata: ["sha256": "\(certificate.fingerprint)"])
                return
            } catch .server(let refusal) {
                throw TLSFrontError.certificateRegistrationFailed(refusal.description)
            } catch {
                guard ContinuousClock.now < deadline, !Task.isCancelled else {
                    throw TLSFrontError.certificateRegistrationFailed(error.description)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private func bindHTTPS(routes: EnclaveRoutes, proxy: WorkerProxy) async throws -> Listener<ConnectionChannel> {
        let responder: HTTPChannelHandler.Responder = { [self] request, writer, channel in
            inFlight.withLock { $0 += 1 }
            defer { inFlight.withLock { $0 -= 1 } }
            var request = request
            let started = ContinuousClock.now
            let route = FrontMetrics.route(request.uri.path)
            if let response = await routes.response(to: &request) {
                try await writer.write(response: response)
                FrontMetrics.record(route: route, status: String(response.status.code), since: started)
                return
            }
            let client = await clientAddress(of: channel)
            try await proxy.forward(request, clientAddress: client, writer: writer)
            FrontMetrics.record(route: route, status: "forwarded", since: started)
        }
        let http = HTTP1Channel(
            responder: responder,
            configuration: .init(
                idleTimeout: TimeAmount(configuration.idleTimeout),
                httpDecoderConfiguration: .init(
                    maxHeaderFieldSize: configuration.maximumHeaderBytes, maxHeaderListSize: configuration.maximumHeaderBytes
                )
            )
        )
        let sslContext = try NIOSSLContext(configuration: certificate.tlsConfiguration())
        let proxyProtocol = configuration.proxyProtocol
        let handshakeTimeout = TimeAmount(configuration.handshakeTimeout)
        let requestHeadTimeout = TimeAmount(configuration.requestHeadTimeout)
        let logger = logger
        // TLSChannel's pipeline, with the connection deadlines around the HTTP codec (see
        // `ConnectionDeadlines`: one half after the TLS handler, one after the decoder).
        let listener = try await configuration.listen.bind { channel in
            // The deadlines handler is not Sendable; NIOLoopBound carries it to the next step,
            // which runs on the same channel's event loop.
            channel.eventLoop.makeCompletedFuture { () -> NIOLoopBound<ConnectionDeadlines> in
                let operations = channel.pipeline.syncOperations
                if proxyProtocol {
                    try operations.addHandler(ProxyProtocolHandler(timeout: .seconds(10), logger: logger))
                }
                let deadlines = ConnectionDeadlines(handshake: handshakeTimeout, requestHead: requestHeadTimeout)
                try operations.addHandler(NIOSSLServerHandler(context: sslContext))
                try operations.addHandler(ConnectionDeadlines.RawSide(deadlines))
                return NIOLoopBound(deadlines, eventLoop: channel.eventLoop)
            }.flatMap { deadlines in
                http.setup(channel: channel, logger: logger).flatMapThrowing { value in
                    let operations = channel.pipeline.syncOperations
                    let state = try operations.handler(type: HTTPConnectionStateHandler.self)
                    try operations.addHandler(ConnectionDeadlines.HeadSide(deadlines.value), position: .before(state))
                    return ConnectionChannel(http: http, value: value)
                }
            }
        }
        return listener
    }

    /// Answers every request on a connection over a connection limit with 503 and closes it.
    private func refusingChannel(_ refusal: ConnectionLimiter.Refusal) -> HTTP1Channel {
        HTTP1Channel(responder: { request, writer, channel in
            var response = FrontResponse.error(.unavailable(refusal.message, retryAfterSeconds: 1), path: request.uri.path)
            response.headers[.connection] = "close"
            try await writer.write(response: response)
            channel.close(promise: nil)
        })
    }

    /// Accepts until `shutdown()`, then drains. Each connection is served next to a watcher
    /// of its close future: when the client goes away mid-request, the watcher cancels the
    /// connection's task, and that cancels the upstream request the responder is waiting on.
    private func acceptConnections(_ listener: Listener<ConnectionChannel>) async throws {
        let logger = logger
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                for await _ in self.stopSignal {}
                logger.info("tls-front stopping: no new connections; draining in-flight requests")
                try? await listener.channel.channel.close()
            }
            try await listener.channel.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask {
                        let client = await self.clientAddress(of: connection.value.channel)
                        let refusal = self.limiter.admit(client: client)
                        defer { self.limiter.release(client: client) }
                        if let refusal {
                            logger.warning("connection refused", metadata: ["reason": "\(refusal.message)"])
                        }
                        let http = refusal.map { self.refusingChannel($0) } ?? connection.http
                        await withTaskGroup(of: Void.self) { pair in
                            pair.addTask { await http.handle(value: connection.value, logger: logger) }
                            pair.addTask { try? await connection.value.channel.closeFuture.get() }
                            await pair.next()
                            pair.cancelAll()
                        }
                    }
                }
            }
            let deadline = ContinuousClock.now + configuration.drainTimeout
            while requestsInFlight > 0, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if requestsInFlight > 0 {
                logger.warning("drain timeout: cancelling in-flight requests", metadata: ["in-flight": "\(requestsInFlight)"])
            }
            group.cancelAll()
        }
    }

    private func clientAddress(of channel: any Channel) async -> String? {
        if configuration.proxyProtocol {
            return await ProxyProtocolHandler.clientAddress(of: channel)?.host
        }
        return channel.remoteAddress?.ipAddress
    }

    private func statusLine(listen: Endpoint) -> String {
        let readiness = pool.readiness
        return "listen=\(listen) certificate-sha256=\(certificate.fingerprint) workers-ready=\(readiness.ready) "
            + "workers-total=\(readiness.total) in-flight=\(requestsInFlight) connections=\(limiter.open)"
    }
}

/// An accepted connection: the NIO channel wrapped for Hummingbird, with the child-channel
/// description that knows how to serve it.
struct ConnectionChannel: Sendable {
    let http: HTTP1Channel
    let value: HTTP1Channel.Value
}
