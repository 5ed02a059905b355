import EnclaveIPC
import Logging
import NIOCore
import NIOPosix

/// Serves `GET /metrics` (Prometheus text format) and nothing else, one request per
/// connection. It is meant for a host-local address (`tcp://127.0.0.1:9101`); the content is
/// counts only, but the port should still not face the internet.
public final class MetricsServer: Sendable {
    public var endpoint: Endpoint { listener.endpoint }

    private let listener: Listener<PendingHead>
    private let metrics: ProxyMetrics
    private let enclave: Endpoint?
    private let logger: Logger

    private struct PendingHead: Sendable {
        let channel: any Channel
        let head: EventLoopFuture<Result<RequestHead, RequestHeadError>>
    }

    private init(listener: Listener<PendingHead>, metrics: ProxyMetrics, enclave: Endpoint?, logger: Logger) {
        self.listener = listener
        self.metrics = metrics
        self.enclave = enclave
        self.logger = logger
    }

    /// `enclave`: the supervisor's host control listener; each scrape then asks it for the
    /// enclave's metrics (`metrics`, which the listener answers unsigned) and serves both.
    public static func bind(
        _ endpoint: Endpoint,
        metrics: ProxyMetrics,
        enclave: Endpoint? = nil,
        logger: Logger = Logger(label: "host-proxy.metrics")
    ) async throws -> MetricsServer {
        let listener: Listener<PendingHead> = try await endpoint.bind { channel in
            channel.eventLoop.makeCompletedFuture {
                let reader = RequestHeadReader(eventLoop: channel.eventLoop, timeout: .seconds(10))
                try channel.pipeline.syncOperations.addHandler(reader)
                return PendingHead(channel: channel, head: reader.result.futureResult)
            }
        }
        return MetricsServer(listener: listener, metrics: metrics, enclave: enclave, logger: logger)
    }

    /// Serves until the calling task is cancelled or `close()` is called.
    public func run() async throws {
        try await listener.channel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await pending in inbound {
                    group.addTask { await self.answer(pending) }
                }
                group.cancelAll()
            }
        }
    }

    public func close() async {
        try? await listener.channel.channel.close()
    }

    private func answer(_ pending: PendingHead) async {
        let channel = pending.channel
        let response: ByteBuffer
        switch try? await pending.head.get() {
        case .success(let head)?:
            let enclaveText = head.target == "/metrics" && head.method == "GET" ? await enclaveMetrics() : nil
            response = Self.response(to: head, metrics: metrics, enclave: enclaveText)
        case .failure(let error)?:
            logger.debug("bad metrics request", metadata: ["error": "\(error)"])
            response = Self.plain("400 Bad Request", "\(error)\n")
        case nil:
            response = Self.plain("400 Bad Request", "no request\n")
        }
        try? await channel.writeAndFlush(response)
        try? await channel.close()
    }

    /// The enclave's exposition plus `host_proxy_enclave_metrics_up`, or nil without an enclave.
    private func enclaveMetrics() async -> String? {
        guard let enclave else { return nil }
        let up = "# HELP host_proxy_enclave_metrics_up Whether the enclave's supervisor answered metrics\n"
            + "# TYPE host_proxy_enclave_metrics_up gauge\nhost_proxy_enclave_metrics_up "
        do {
            let reply = try await ControlRelay.send("metrics", to: enclave, timeout: .seconds(5))
            guard reply.hasPrefix("ok\n") else {
                logger.warning("enclave metrics refused", metadata: ["reply": "\(reply.prefix(200))"])
                return up + "0\n"
            }
            return up + "1\n" + reply.dropFirst(3)
        } catch {
            logger.warning("enclave metrics unavailable", metadata: ["error": "\(error)"])
            return up + "0\n"
        }
    }

    static func response(to head: RequestHead, metrics: ProxyMetrics, enclave: String? = nil) -> ByteBuffer {
        guard head.method == "GET" || head.method == "HEAD" else {
            return plain("405 Method Not Allowed", "only GET is supported\n", extraHeaders: "Allow: GET, HEAD\r\n")
        }
        guard head.target == "/metrics" else {
            return plain("404 Not Found", "only /metrics is served here\n")
        }
        var body = metrics.exposition()
        if let enclave {
            body = Array(
                PrometheusMerge.merge([
                    .init(process: nil, text: String(decoding: body, as: UTF8.self)), .init(process: nil, text: enclave),
                ]).utf8)
        }
        var buffer = ByteBuffer(
            string: "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        )
        if head.method == "GET" {
            buffer.writeBytes(body)
        }
        return buffer
    }

    private static func plain(_ status: String, _ body: String, extraHeaders: String = "") -> ByteBuffer {
        ByteBuffer(
            string:
                "HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
                + extraHeaders + "Connection: close\r\n\r\n" + body
        )
    }
}
