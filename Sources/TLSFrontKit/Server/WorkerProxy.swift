import AsyncHTTPClient
import EnclaveIPC
import Hummingbird
import HummingbirdCore
import InferenceAPI
import Logging
import NIOCore

/// Forwards one client request to a worker and streams the answer back.
///
/// Both directions stream: the request body goes up as it arrives (counted against the body
/// limit), and each chunk the worker writes is written to the client as soon as it arrives,
/// which is what keeps SSE events from being batched. The request timeout bounds the wait for
/// the worker's response head; a stream may then run as long as the worker keeps it open.
/// Cancelling the calling task (the server does so when the client disconnects) cancels the
/// upstream request.
struct WorkerProxy: Sendable {
    let pool: WorkerPool
    let client: HTTPClient
    let requestTimeout: Duration
    let maximumBodyBytes: Int
    let logger: Logger

    /// Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus the forwarding
    /// headers tls-front sets itself so a client cannot forge them.
    private static let hopHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "x-forwarded-for", "x-forwarded-proto",
    ]

    func forward(_ request: Request, clientAddress: String?, writer: consuming ResponseWriter) async throws {
        let declaredLength = request.headers[.contentLength].flatMap { Int($0) }
        if let declaredLength, declaredLength > maximumBodyBytes {
            return try await writer.write(response: FrontResponse.error(.bodyTooLarge(limit: maximumBodyBytes), path: request.uri.path))
        }
        guard let worker = pool.acquire() else {
            let response = FrontResponse.error(
                .unavailable("no inference worker is ready; retry shortly", retryAfterSeconds: 1), path: request.uri.path
            )
            return try await writer.write(response: response)
        }
        defer { pool.release(worker) }

        var upstream = HTTPClientRequest(url: WorkerAddress.url(worker, request.uri.description))
        upstream.method = .init(rawValue: request.method.rawValue)
        for field in request.headers where !Self.hopHeaders.contains(field.name.canonicalName) {
            upstream.headers.add(name: field.name.rawName, value: field.value)
        }
        if let clientAddress { upstream.headers.add(name: "X-Forwarded-For", value: clientAddress) }
        upstream.headers.add(name: "X-Forwarded-Proto", value: "https")
        let hasBody = declaredLength.map { $0 > 0 } ?? (request.headers[.transferEncoding] != nil)
        if hasBody {
            let body = LimitedBody(base: request.body, limit: maximumBodyBytes)
            upstream.body = .stream(body, length: declaredLength.map { .known(Int64($0)) } ?? .unknown)
        }

        let response: HTTPClientResponse
        do {
            response = try await client.execute(upstream, timeout: TimeAmount(requestTimeout), logger: logger)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            return try await writer.write(response: failureResponse(for: error, worker: worker, path: request.uri.path))
        }

        var fields = HTTPFields()
        for (name, value) in response.headers where !Self.hopHeaders.contains(name.lowercased()) {
            if let fieldName = HTTPFields.Element.Name(name) { fields.append(.init(name: fieldName, value: value)) }
        }
        let head = HTTPResponse(status: .init(code: Int(response.status.code)), headerFields: fields)
        let upstreamBody = response.body
        let pool = pool, logger = logger
        try await writer.write(
            response: head,
            body: ResponseBody { bodyWriter in
                var chunks = upstreamBody.makeAsyncIterator()
                while true {
                    let chunk: ByteBuffer?
                    do {
                        chunk = try await chunks.next()
                    } catch {
                        throw Self.brokenMidResponse(error, worker: worker, pool: pool, logger: logger)
                    }
                    guard let chunk else { break }
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
        if let limit = error as? BodyLimitExceeded {
            return FrontResponse.error(.bodyTooLarge(limit: limit.limit), path: path)
        }
        if let clientError = error as? HTTPClientError, clientError == .deadlineExceeded {
            logger.warning("worker did not answer in time", metadata: ["worker": "\(worker)", "timeout": "\(requestTimeout)"])
            return FrontResponse.error(.upstreamTimeout("the inference worker did not answer within \(requestTimeout)"), path: path)
        }
        // Connection-level failures mean the worker is gone (crashed, or stopping): keep new
        // requests away from it until a health check passes again.
        pool.setHealthy(worker, false)
        logger.warning("worker request failed", metadata: ["worker": "\(worker)", "error": "\(error)"])
        return FrontResponse.error(.upstream("the inference worker failed to answer"), path: path)
    }
}

/// Ends the client connection when the worker's response breaks off mid-body.
struct UpstreamResponseBroken: Error, CustomStringConvertible {
    let worker: Endpoint
    var description: String { "the response from \(worker) broke off mid-body" }
}

/// Thrown by `LimitedBody` when a streamed request body passes the limit.
struct BodyLimitExceeded: Error, CustomStringConvertible {
    let limit: Int
    var description: String { "request body exceeds the \(limit)-byte limit" }
}

/// A request body that fails once more than `limit` bytes have been read, for bodies without
/// a Content-Length (chunked) whose size is only known while streaming.
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            seen += chunk.readableBytes
            guard seen <= limit else { throw BodyLimitExceeded(limit: limit) }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit)
    }
}
