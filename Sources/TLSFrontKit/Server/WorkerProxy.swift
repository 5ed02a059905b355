import AsyncHTTPClient
import EnclaveIPC
import Hummingbird
import HummingbirdCore
import InferenceAPI
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Forwards one client request to a worker and streams the answer back.
///
/// The request body is collected first (up to the body limit) and forwarded as bytes. Inference
/// request bodies are small and bounded, and a collected body has two properties a streamed one
/// lacks: it can be sent again, which the one retry below needs, and tls-front never has two
/// readers on Hummingbird's single-use request body. Streaming it into AsyncHTTPClient left the
/// body's iterator with AsyncHTTPClient while Hummingbird, once the responder returned, went on
/// to drain the same body to keep the connection usable; two consumers of one
/// `NIOThrowingAsyncSequenceProducer` trap the process (seen once in ~100,000 requests).
///
/// The answer streams: each chunk the worker writes goes to the client as soon as it arrives,
/// which keeps SSE events from being batched. The request timeout bounds the wait for the
/// worker's response head; a stream may then run as long as the worker keeps it open.
/// Cancelling the calling task (the server does so when the client disconnects) cancels the
/// upstream request.
///
/// Failures are handled by whether the worker can have started the request:
/// - nothing reached it (connection refused, its socket gone, a pooled connection already
///   closed): the worker is marked unhealthy and the request goes to another worker, once;
/// - it may have started (the connection broke after the request went out): 502, never
///   retried, because the worker may already have called the provider or signed an answer.
/// When no worker is ready but the pool has members (one is restarting, or a health check
/// flapped), a request waits up to `queueTimeout` for one instead of failing at once.
struct WorkerProxy: Sendable {
    let pool: WorkerPool
    let client: HTTPClient
    let requestTimeout: Duration
    let queueTimeout: Duration
    let maximumBodyBytes: Int
    let keyService: KeyServiceWatch
    let logger: Logger

    /// Headers that describe one hop, not the message (RFC 9110 §7.6.1), the framing headers
    /// AsyncHTTPClient sets itself for the collected body, and the forwarding headers tls-front
    /// sets itself so a client cannot forge them.
    private static let hopHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "content-length", "x-forwarded-for", "x-forwarded-proto",
    ]

    /// AsyncHTTPClient's own logger. It logs only at debug and trace, which tls-front never
    /// enables, yet it sets request metadata on the logger for every request, and the stream
    /// log handler re-renders its metadata on every change (about 2% of tls-front's CPU in the
    /// profile, docs/performance.md). tls-front's own warnings go to `logger`.
    private static let clientLogger = Logger(label: "tls-front.http-client", factory: { _ in SwiftLogNoOpLogHandler() })

    func forward(_ request: Request, clientAddress: String?, writer: consuming ResponseWriter) async throws {
        let path = request.uri.path
        if let declaredLength = request.headers[.contentLength].flatMap({ Int($0) }), declaredLength > maximumBodyBytes {
            return try await writer.write(response: FrontResponse.error(.bodyTooLarge(limit: maximumBodyBytes), path: path))
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBodyBytes)
        } catch is NIOTooManyBytesError {
            return try await writer.write(response: FrontResponse.error(.bodyTooLarge(limit: maximumBodyBytes), path: path))
        }

        var upstream = HTTPClientRequest(url: "")
        upstream.method = .init(rawValue: request.method.rawValue)
        for field in request.headers where !Self.hopHeaders.contains(field.name.canonicalName) {
            upstream.headers.add(name: field.name.rawName, value: field.value)
        }
        if let clientAddress { upstream.headers.add(name: "X-Forwarded-For", value: clientAddress) }
        upstream.headers.add(name: "X-Forwarded-Proto", value: "https")
        // The client's Host (HTTP types carry it as the authority): the worker names the
        // resource a payment is for with it (x402 `resource`); AsyncHTTPClient would otherwise
        // send the worker socket's "localhost".
        if let authority = request.head.authority { upstream.headers.replaceOrAdd(name: "Host", value: authority) }
        if body.readableBytes > 0 || request.headers[.contentLength] != nil || request.headers[.transferEncoding] != nil {
            upstream.body = .bytes(body)
        }

        guard keyService.isAvailable else {
            let response = FrontResponse.error(
                .unavailable("the key service is unavailable, so no answer can be signed; retry shortly", retryAfterSeconds: 1),
                path: path
            )
            return try await writer.write(response: response)
        }
        var failedOn: [Endpoint] = []
        while true {
            guard let worker = await acquireWorker(excluding: failedOn) else {
                let response = FrontResponse.error(
                    .unavailable("no inference worker is ready; retry shortly", retryAfterSeconds: 1), path: path
                )
                return try await writer.write(response: response)
            }
            upstream.url = WorkerAddress.url(worker, request.uri.description)
            let response: HTTPClientResponse
            do {
                response = try await client.execute(upstream, timeout: TimeAmount(requestTimeout), logger: Self.clientLogger)
            } catch {
                pool.release(worker)
                if Task.isCancelled { throw CancellationError() }
                if Self.outOfDescriptors(error) {
                    // tls-front's own limit, not the worker's fault: the worker stays in the pool.
                    logger.warning("no file descriptor left for a worker connection", metadata: ["error": "\(error)"])
                    let response = FrontResponse.error(
                        .unavailable("tls-front has reached its open-file limit; retry shortly", retryAfterSeconds: 1), path: path
                    )
                    return try await writer.write(response: response)
                }
                if Self.neverReachedWorker(error) {
                    pool.setHealthy(worker, false)
                    failedOn.append(worker)
                    logger.warning("worker unreachable; the request goes to another worker", metadata: [
                        "worker": "\(worker)", "error": "\(error)", "attempt": "\(failedOn.count)",
                    ])
                    if failedOn.count < 2 { continue }
                    let response = FrontResponse.error(
                        .unavailable("no inference worker is reachable; retry shortly", retryAfterSeconds: 1), path: path
                    )
                    return try await writer.write(response: response)
                }
                return try await writer.write(response: failureResponse(for: error, worker: worker, path: path))
            }
            defer { pool.release(worker) }
            return try await relay(response, from: worker, path: path, to: writer)
        }
    }

    /// A worker for the next attempt, waiting (bounded) while the pool has members but none is
    /// ready. No members means the pool was drained on purpose: that is a 503 at once. A worker
    /// the request already failed on is taken again only once a health check passes (it was
    /// restarted under the same socket, as after a crash).
    private func acquireWorker(excluding failedOn: [Endpoint]) async -> Endpoint? {
        func next() -> Endpoint? { pool.acquire(excluding: failedOn) ?? (failedOn.isEmpty ? nil : pool.acquire()) }
        if let worker = next() { return worker }
        let deadline = ContinuousClock.now + queueTimeout
        while pool.readiness.total > 0, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
            if let worker = next() { return worker }
        }
        return nil
    }

    /// socket(2) failed for want of a descriptor (EMFILE, ENFILE): nothing reached the worker.
    static func outOfDescriptors(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return error.errnoCode == EMFILE || error.errnoCode == ENFILE
    }

    /// Errors that mean the request never reached a worker process: safe to send elsewhere.
    /// `remoteConnectionClosed` is deliberately not here: AsyncHTTPClient also reports it for a
    /// connection that broke after the request was written, when the worker may have acted on it.
    static func neverReachedWorker(_ error: any Error) -> Bool {
        if error is NIOConnectionError { return true }
        // connect(2) failed: no listener, or the socket file is gone.
        if let error = error as? IOError { return error.errnoCode == ECONNREFUSED || error.errnoCode == ENOENT }
        if let error = error as? ChannelError {
            switch error {
            case .ioOnClosedChannel, .connectTimeout: return true
            default: return false
            }
        }
        if let error = error as? HTTPClientError { return error == .connectTimeout }
        return false
    }

    /// Writes the worker's response head and streams its body to the client. An event stream
    /// that breaks off (the worker died mid-answer) ends with the dialect's error event, so an
    /// SSE client sees a failure rather than a stream that merely stopped.
    private func relay(_ response: HTTPClientResponse, from worker: Endpoint, path: String, to writer: consuming ResponseWriter) async throws {
        let isEventStream = response.headers.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") ?? false
        var fields = HTTPFields()
        for (name, value) in response.headers where !Self.hopHeaders.contains(name.lowercased()) || name.lowercased() == "content-length" {
            if let fieldName = HTTPFields.Element.Name(name) { fields.append(.init(name: fieldName, value: value)) }
        }
        let head = HTTPResponse(status: .init(code: Int(response.status.code)), headerFields: fields)
        let upstreamBody = response.body
        let pool = pool, logger = logger
        try await writer.write(
            response: head,
            body: ResponseBody { bodyWriter in
                var chunks = upstreamBody.makeAsyncIterator()
                var endsAnEvent = true
                while true {
                    let chunk: ByteBuffer?
                    do {
                        chunk = try await chunks.next()
                    } catch {
                        let broken = Self.brokenMidResponse(error, worker: worker, pool: pool, logger: logger)
                        guard isEventStream, !(broken is CancellationError) else { throw broken }
                        let failure = APIError.upstream("the inference worker stopped in the middle of this stream; the answer is incomplete and unsigned")
                        let frame = (endsAnEvent ? [] : Array("\n\n".utf8)) + failure.streamFrame(APIDialect(path: path))
                        try await bodyWriter.write(ByteBuffer(bytes: frame))
                        break
                    }
                    guard let chunk else { break }
                    endsAnEvent = chunk.readableBytesView.suffix(2).elementsEqual([0x0A, 0x0A])
                    try await bodyWriter.write(chunk)
                }
                try await bodyWriter.finish(nil)
            }
        )
    }

    /// The worker's answer broke off after its head went to the client (the worker crashed
    /// mid-stream). All that is left is to close the client's connection, so it sees a
    /// truncated response. The upstream error must not escape as it is: a truncated chunked
    /// body surfaces as NIO's `HTTPParserError`, which Hummingbird takes for a malformed
    /// *client* request and answers by writing a `400` head into the middle of the body.
    private static func brokenMidResponse(_ error: any Error, worker: Endpoint, pool: WorkerPool, logger: Logger) -> any Error {
        if Task.isCancelled { return CancellationError() }
        pool.setHealthy(worker, false)
        logger.warning("worker response broke off mid-body; closing the client connection", metadata: [
            "worker": "\(worker)", "error": "\(error)",
        ])
        return UpstreamResponseBroken(worker: worker)
    }

    private func failureResponse(for error: any Error, worker: Endpoint, path: String) -> Response {
        if let clientError = error as? HTTPClientError, clientError == .deadlineExceeded {
            logger.warning("worker did not answer in time", metadata: ["worker": "\(worker)", "timeout": "\(requestTimeout)"])
            return FrontResponse.error(.upstreamTimeout("the inference worker did not answer within \(requestTimeout)"), path: path)
        }
        // The request waited for a connection to the worker and never got one: it never reached
        // the worker, which is busy rather than gone, so it stays in the pool.
        if let clientError = error as? HTTPClientError, clientError == .getConnectionFromPoolTimeout {
            logger.warning("no connection to the worker became free in time", metadata: ["worker": "\(worker)"])
            return FrontResponse.error(
                .unavailable("every connection to the inference workers is busy; retry shortly", retryAfterSeconds: 1), path: path
            )
        }
        // Connection-level failures mean the worker is gone (crashed, or stopping): keep new
        // requests away from it until a health check passes again.
        pool.setHealthy(worker, false)
        logger.warning("worker request failed", metadata: ["worker": "\(worker)", "error": "\(error)"])
        return FrontResponse.error(
            .upstream("the inference worker stopped while handling this request; it was not retried because the worker may have acted on it"),
            path: path
        )
    }
}

/// Ends the client connection when the worker's response breaks off mid-body.
struct UpstreamResponseBroken: Error, CustomStringConvertible {
    let worker: Endpoint
    var description: String { "the response from \(worker) broke off mid-body" }
}
