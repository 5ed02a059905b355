import Foundation
import GatewayClient
import GatewayCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OHTTP

/// The local OpenAI/Anthropic-compatible HTTP server: each route forwards its request, sealed,
/// to the same path on the enclave and returns the answer only after its `tee_*` fields verify.
///
/// Non-streamed: the answer is held until checked; a failed check is a 502 naming the check.
/// Streamed: events are forwarded as their sealed chunks open, and the stream's end (`[DONE]`,
/// `message_stop`) is held back until the final signature verifies; if it does not, the stream
/// ends with an error event instead.
public struct ProxyServer: Sendable {
    public let settings: ProxySettings
    public let gateway: VerifiedGateway
    public let logger: Logger
    public let drain: DrainState

    /// Says how an answer was checked: `tee_signature`, or `unsigned-route` for routes the
    /// enclave does not sign (models, token counts), which still came through the sealed channel.
    static let verifiedHeader = HTTPTypes.HTTPField.Name("x-confidential-proxy-verified")!

    /// Header fields copied into the encrypted inner request (and nowhere else).
    static let forwardedHeaders = ["authorization", "x-api-key", "anthropic-version", "anthropic-beta"]

    /// Local path (under a prefix) → enclave path, per dialect.
    static let routes: [(dialect: Dialect, method: HTTPRequest.Method, local: String, inner: String)] = [
        (.openai, .post, "/chat/completions", "/v1/chat/completions"),
        (.openai, .post, "/completions", "/v1/completions"),
        (.openai, .get, "/models", "/v1/models"),
        (.anthropic, .post, "/messages", "/v1/messages"),
        (.anthropic, .post, "/messages/count_tokens", "/v1/messages/count_tokens"),
        (.anthropic, .get, "/models", "/v1/models"),
    ]

    public init(settings: ProxySettings, gateway: VerifiedGateway, logger: Logger, drain: DrainState = DrainState()) {
        self.settings = settings
        self.gateway = gateway
        self.logger = logger
        self.drain = drain
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        for (dialect, prefix) in settings.compat.prefixes {
            for route in Self.routes where route.dialect == dialect {
                router.on(RouterPath(prefix + route.local), method: route.method) { request, _ in
                    try await handle(request, dialect: dialect, innerPath: route.inner)
                }
            }
            router.get(RouterPath(prefix + "/models/:id")) { request, context in
                let id = context.parameters.get("id") ?? ""
                return try await handle(request, dialect: dialect, innerPath: "/v1/models/" + id)
            }
        }
        router.get("/_proxy/status") { _, _ in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let snapshot = try encoder.encode(await gateway.snapshot)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: snapshot)))
        }
        return router
    }

    private func handle(_ incoming: Request, dialect: Dialect, innerPath: String) async throws -> Response {
        guard drain.admit() else {
            return Self.error(dialect, status: .serviceUnavailable, "confidential-proxy is shutting down; retry on another instance")
        }
        defer { drain.leave() }
        var request = incoming
        let started = ContinuousClock.now
        let body: [UInt8]
        do {
            body = Array((try await request.collectBody(upTo: settings.bodyLimit)).readableBytesView)
        } catch {
            return Self.error(dialect, status: .contentTooLarge, "request body larger than JSON_BODY_LIMIT (\(settings.bodyLimit) bytes)")
        }
        let path = innerPath + (incoming.uri.query.map { "?" + $0 } ?? "")
        let headers = Self.forwardedHeaders.compactMap { name -> OHTTP.HTTPField? in
            guard let field = HTTPTypes.HTTPField.Name(name), let value = incoming.headers[field] else { return nil }
            return OHTTP.HTTPField(name: name, value: value)
        }
        let inner = ObliviousRequest(method: incoming.method.rawValue, path: path, body: body)
        let streaming = Self.wantsStream(body)
        let response: Response
        if streaming {
            response = await stream(inner, headers: headers, dialect: dialect)
        } else {
            response = await single(inner, headers: headers, dialect: dialect)
        }
        logger.debug(
            "\(incoming.method) \(incoming.uri.path) → \(response.status.code)",
            metadata: ["duration": "\(started.duration(to: .now))", "stream": "\(streaming)"])
        return response
    }

    private func single(_ inner: ObliviousRequest, headers: [OHTTP.HTTPField], dialect: Dialect) async -> Response {
        do {
            if inner.path == "/v1/messages", let streaming = AnthropicMessageAssembler.streamingBody(inner.body) {
                return try await messageThroughStream(inner, streamingBody: streaming, headers: headers, dialect: dialect)
            }
            let answer = try await gateway.send(inner, headers: headers)
            return respond(answer, dialect: dialect, path: inner.path)
        } catch {
            return failure(error, dialect: dialect, path: inner.path)
        }
    }

    /// See `AnthropicMessageAssembler`: the stream is verified in full, then folded.
    private func messageThroughStream(
        _ inner: ObliviousRequest, streamingBody: [UInt8], headers: [OHTTP.HTTPField], dialect: Dialect
    ) async throws -> Response {
        var streamed = inner
        streamed.body = streamingBody
        let answer = try await gateway.send(streamed, headers: headers)
        guard answer.isVerified, answer.streamed else { return respond(answer, dialect: dialect, path: inner.path) }
        let message: [UInt8]
        do { message = try AnthropicMessageAssembler.message(fromSSE: answer.body) } catch {
            return Self.error(dialect, status: .badGateway, "cannot assemble the verified stream into a message: \(error)")
        }
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[Self.verifiedHeader] = "tee_signature"
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: message)))
    }

    /// The checked answer, or a 502 naming the failed checks.
    private func respond(_ answer: ObliviousAnswer, dialect: Dialect, path: String) -> Response {
        if answer.signed, answer.checks.hasFailures {
            let reason = "response verification failed: " + answer.checks.failures.joined(separator: "; ")
            logger.error("refusing an unverified answer", metadata: ["path": "\(path)", "reason": "\(reason)"])
            return Self.error(dialect, status: .badGateway, reason)
        }
        var headers = HTTPFields()
        headers[.contentType] = answer.contentType ?? "application/json"
        headers[Self.verifiedHeader] = answer.isVerified ? "tee_signature" : "unsigned-route"
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    private func failure(_ error: any Error, dialect: Dialect, path: String) -> Response {
        let reason: String =
            switch error {
            case let error as AttestationFailed: error.description
            case let error as CustomStringConvertible: "\(error)"
            default: "\(error)"
            }
        logger.error("request failed", metadata: ["path": "\(path)", "reason": "\(reason)"])
        return Self.error(dialect, status: .badGateway, reason)
    }

    private func stream(_ inner: ObliviousRequest, headers: [OHTTP.HTTPField], dialect: Dialect) async -> Response {
        let (items, continuation) = AsyncStream<StreamItem>.makeStream()
        let gateway = gateway
        let task = Task {
            do {
                let answer = try await gateway.send(inner, headers: headers) { event in continuation.yield(.event(event)) }
                continuation.yield(.finished(.success(answer)))
            } catch {
                continuation.yield(.finished(.failure(error)))
            }
            continuation.finish()
        }
        var iterator = items.makeAsyncIterator()
        guard let first = await iterator.next() else { return Self.error(dialect, status: .badGateway, "the stream ended without an answer") }
        // An inner error (unknown model, bad request) is one JSON body, which the SSE reader may
        // report as a single event right before the end: look at the second item before
        // committing to a 200 event stream, so the client gets the error with its status.
        var lookahead: StreamItem?
        if case .event = first {
            lookahead = await iterator.next()
            if case .finished(.success(let answer))? = lookahead, !(200..<300).contains(answer.status) {
                return respond(answer, dialect: dialect, path: inner.path)
            }
        }
        switch first {
        case .finished(.success(let answer)): return respond(answer, dialect: dialect, path: inner.path)
        case .finished(.failure(let error)): return failure(error, dialect: dialect, path: inner.path)
        case .event(let event):
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            let logger = logger
            let items = UncheckedIterator(iterator)
            let drain = drain
            let lookahead = lookahead
            drain.hold()  // the stream counts as in flight until its last byte
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    let leaving = LeaveOnce(drain)
                    defer { leaving.leave() }
                    var held: [SSEEvent] = []
                    var pending: [StreamItem] = [.event(event)] + (lookahead.map { [$0] } ?? [])
                    var outcome: Result<ObliviousAnswer, any Error>?
                    while outcome == nil {
                        let item: StreamItem?
                        if !pending.isEmpty {
                            item = pending.removeFirst()
                        } else {
                            item = await items.next()
                        }
                        guard let item else { break }
                        switch item {
                        case .event(let event):
                            if Self.isTerminal(event) {
                                held.append(event)
                            } else {
                                try await writer.write(ByteBuffer(string: Self.serialize(event)))
                            }
                        case .finished(let result): outcome = result
                        }
                    }
                    let closing: String
                    switch outcome {
                    case .success(let answer)? where answer.isVerified:
                        closing = held.map(Self.serialize).joined()
                    case .success(let answer)?:
                        let reason =
                            answer.signed
                            ? "stream verification failed: " + answer.checks.failures.joined(separator: "; ")
                            : "stream verification failed: the stream carries no tee_signature (inner status \(answer.status))"
                        logger.error("ending a stream with an error", metadata: ["reason": "\(reason)"])
                        closing = ErrorBody.streamEvent(dialect, message: reason)
                    case .failure(let error)?:
                        logger.error("ending a stream with an error", metadata: ["reason": "\(error)"])
                        closing = ErrorBody.streamEvent(dialect, message: "stream failed: \(error)")
                    case nil:
                        closing = ErrorBody.streamEvent(dialect, message: "stream failed: the gateway's answer ended early")
                    }
                    try await writer.write(ByteBuffer(string: closing))
                    leaving.leave()
                    try await writer.finish(nil)
                    _ = task
                })
        }
    }

    /// OpenAI's `[DONE]` and Anthropic's `message_stop`: sent only once the stream verified.
    static func isTerminal(_ event: SSEEvent) -> Bool {
        event.data == "[DONE]" || event.name == "message_stop"
    }

    static func serialize(_ event: SSEEvent) -> String {
        var text = event.name.map { "event: \($0)\n" } ?? ""
        for line in event.data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        return text + "\n"
    }

    static func wantsStream(_ body: [UInt8]) -> Bool {
        guard let object = (try? JSONParser().parse(body)) else { return false }
        return object["stream"]?.boolValue == true
    }

    static func error(_ dialect: Dialect, status: HTTPResponse.Status, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: ErrorBody.json(dialect, status: status.code, message: message))))
    }
}

enum StreamItem: Sendable {
    case event(SSEEvent)
    case finished(Result<ObliviousAnswer, any Error>)
}

/// The stream's iterator handed to the response body writer (one consumer, in order).
private final class UncheckedIterator: @unchecked Sendable {
    private var iterator: AsyncStream<StreamItem>.AsyncIterator
    init(_ iterator: AsyncStream<StreamItem>.AsyncIterator) { self.iterator = iterator }
    func next() async -> StreamItem? { await iterator.next() }
}

/// Releases a stream's hold on the drain exactly once, however its body writer ends.
private final class LeaveOnce: @unchecked Sendable {
    private let drain: DrainState
    private let lock = NSLock()
    private var done = false
    init(_ drain: DrainState) { self.drain = drain }
    func leave() {
        let first = lock.withLock { () -> Bool in
            defer { done = true }
            return !done
        }
        if first { drain.leave() }
    }
}

/// Counts requests in flight and, once draining, turns new ones away with 503 while the ones
/// already admitted (streams included) finish.
public final class DrainState: @unchecked Sendable {
    private let lock = NSLock()
    private var draining = false
    private var inFlight = 0

    public init() {}

    func admit() -> Bool {
        lock.withLock {
            guard !draining else { return false }
            inFlight += 1
            return true
        }
    }

    func hold() { lock.withLock { inFlight += 1 } }

    func leave() { lock.withLock { inFlight -= 1 } }

    public func beginDraining() { lock.withLock { draining = true } }

    public var requestsInFlight: Int { lock.withLock { inFlight } }
}
