#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Metrics
import NIOCore
import NIOPosix

/// Serves the key-service protocol on one endpoint: accepts connections, identifies each peer,
/// and answers every request frame, many connections and many requests per connection at once.
///
/// Binding happens in `init` (so the bound endpoint, e.g. an OS-chosen TCP port, is known before
/// serving); `run()` serves until its task is cancelled:
///
/// ```swift
/// let server = try await KeyServiceServer(bindingTo: endpoint, handler: keys, policy: policy)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await server.run() }
///     …
/// }
/// ```
public struct KeyServiceServer<Handler: KeyServiceHandler>: Sendable {
    public struct Configuration: Sendable {
        public var maximumFrameSize: Int
        /// Requests of one connection handled at the same time; further frames wait (and, via
        /// NIO back-pressure, the peer's writes too), so one peer cannot queue unbounded work.
        public var maximumConcurrentRequestsPerConnection: Int
        public var unixSocketMode: mode_t

        public init(
            maximumFrameSize: Int = Framing.defaultMaximumFrameSize,
            maximumConcurrentRequestsPerConnection: Int = 64,
            unixSocketMode: mode_t = 0o600
        ) {
            self.maximumFrameSize = maximumFrameSize
            self.maximumConcurrentRequestsPerConnection = maximumConcurrentRequestsPerConnection
            self.unixSocketMode = unixSocketMode
        }
    }

    struct Connection: Sendable {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let peer: PeerIdentity
    }

    private let listener: Listener<Connection>
    private let handler: Handler
    private let policy: PeerPolicy
    private let configuration: Configuration
    private let logger: Logger

    /// The bound endpoint; for `tcp://…:0` it holds the port the OS chose.
    public var endpoint: Endpoint { listener.endpoint }

    /// Binds `endpoint` (for Unix sockets with `configuration.unixSocketMode`). The socket stays
    /// bound until `run()` returns, so always run a server you have created.
    public init(
        bindingTo endpoint: Endpoint,
        handler: Handler,
        policy: PeerPolicy,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "enclave-ipc.key-service-server"),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws {
        let maximumFrameSize = configuration.maximumFrameSize
        listener = try await endpoint.bind(group: group, unixSocketMode: configuration.unixSocketMode) { channel in
            channel.eventLoop.makeCompletedFuture {
                let peer = PeerIdentity.of(channel)
                return Connection(channel: try Framing.wrap(channel, maximumFrameSize: maximumFrameSize), peer: peer)
            }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
        self.handler = handler
        self.policy = policy
        self.configuration = configuration
        self.logger = logger
    }

    /// Serves until the surrounding task is cancelled, then closes the listener and every
    /// connection (in-flight handler calls are cancelled too) and returns.
    public func run() async throws {
        logger.info("key-service listening", metadata: ["endpoint": "\(endpoint)"])
        try await listener.channel.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask { await serve(connection) }
                }
            }
        }
    }

    private func serve(_ connection: Connection) async {
        let logger = {
            var logger = self.logger
            logger[metadataKey: "peer"] = "\(connection.peer)"
            return logger
        }()
        logger.debug("key-service connection opened")
        do {
            try await connection.channel.executeThenClose { requests, responses in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var inFlight = 0
                    for try await frame in requests {
                        if inFlight >= configuration.maximumConcurrentRequestsPerConnection {
                            try await group.next()
                            inFlight -= 1
                        }
                        inFlight += 1
                        group.addTask {
                            try await responses.write(await answer(frame, from: connection.peer, logger: logger))
                        }
                    }
                    try await group.waitForAll()
                }
            }
            logger.debug("key-service connection closed by peer")
        } catch {
            logger.info("key-service connection closed", metadata: ["error": "\(error)"])
        }
    }

    /// Decodes, authorizes and handles one request frame and returns the encoded response.
    /// Request and response contents are never logged, only operation, id and outcome.
    private func answer(_ frame: ByteBuffer, from peer: PeerIdentity, logger: Logger) async throws -> ByteBuffer {
        let id: UInt64
        let response: KeyServiceResponse
        do {
            let decoded = try KeyServiceCodec.decodeRequest(frame)
            id = decoded.id
            response = await authorizedResponse(to: decoded.request, from: peer, logger: logger)
        } catch {
            id = error.id ?? 0
            logger.warning("malformed key-service request", metadata: ["id": "\(id)", "error": "\(error)"])
            response = .failure(KeyServiceError(.malformed, error.description))
        }
        return try encode(response, id: id, logger: logger)
    }

    private func authorizedResponse(
        to request: KeyServiceRequest,
        from peer: PeerIdentity,
        logger: Logger
    ) async -> KeyServiceResponse {
        do {
            try policy.authorize(peer, for: request.operation)
        } catch {
            logger.warning("key-service request refused", metadata: ["operation": "\(request.operation)", "reason": "\(error.message)"])
            Self.count(request.operation, outcome: "refused_by_peer_policy")
            return .failure(error)
        }
        let response = await handler.response(to: request)
        if case .failure(let error) = response {
            logger.info("key-service request failed", metadata: ["operation": "\(request.operation)", "code": "\(error.code.rawValue)"])
            Self.count(request.operation, outcome: error.code.rawValue)
        } else {
            Self.count(request.operation, outcome: "ok")
        }
        return response
    }

    /// `key_service_requests_total{operation, outcome}`: outcome is `ok`, an error code
    /// (`unauthorized`, `replay`, …) or `refused_by_peer_policy`. Signatures are
    /// `operation="signInference",outcome="ok"`. Recorded through swift-metrics, so nothing is
    /// counted unless the process bootstrapped a backend (`MetricsSocket.bootstrap`).
    static func count(_ operation: KeyServiceOperation, outcome: String) {
        Counter(label: "key_service_requests_total", dimensions: [("operation", operation.rawValue), ("outcome", outcome)]).increment()
    }

    /// A response too large for one frame is replaced by an `internalError`, so the peer gets an
    /// answer instead of a connection torn down by the frame encoder.
    private func encode(_ response: KeyServiceResponse, id: UInt64, logger: Logger) throws -> ByteBuffer {
        let encoded = try KeyServiceCodec.encode(response, id: id)
        guard encoded.readableBytes > configuration.maximumFrameSize else { return encoded }
        logger.error(
            "key-service response exceeds the frame limit",
            metadata: ["type": "\(response.type)", "bytes": "\(encoded.readableBytes)"]
        )
        let message = "response of \(encoded.readableBytes) bytes exceeds the \(configuration.maximumFrameSize)-byte frame limit"
        return try KeyServiceCodec.encode(.failure(KeyServiceError(.internalError, message)), id: id)
    }
}
