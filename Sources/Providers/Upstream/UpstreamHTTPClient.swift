import AsyncHTTPClient
import GatewayCore
import Logging
import NIOCore
import NIOSSL

/// The one HTTP client the adapters share: connection pooling, timeouts and the egress proxy.
///
/// Cancellation is structural: the stream's consumer going away (client disconnect) cancels the
/// task that runs the request, which makes AsyncHTTPClient close the upstream connection.
public final class UpstreamHTTPClient: Sendable {
    let configuration: UpstreamConfiguration
    private let client: HTTPClient
    private let logger: Logger

    public init(configuration: UpstreamConfiguration = UpstreamConfiguration(), logger: Logger = Logger(label: "providers.upstream")) {
        self.configuration = configuration
        self.logger = logger
        var config = HTTPClient.Configuration(
            timeout: .init(connect: TimeAmount(configuration.connectTimeout), read: TimeAmount(configuration.readTimeout)),
            proxy: configuration.proxy.map { .server(host: $0.host, port: $0.port) })
        config.redirectConfiguration = .disallow
        // No tracing spans: nothing in the enclave collects them (see tls-front's client).
        config.tracing.tracer = nil
        if configuration.proxy != nil {
            // Behind the egress proxy a failed connection is almost always a CONNECT the host
            // refused by policy or already tried on every address with its own timeout.
            // Retrying until the connect timeout would hold the client 15 s for the same 502
            // and repeat the refusal in the host's log and metrics a dozen times per request.
            // The cost: during the moment the local bridge restarts, calls fail at once.
            config.connectionPool.retryConnectionEstablishment = false
        }
        if !configuration.additionalTrustRoots.isEmpty {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.certificates(configuration.additionalTrustRoots)]
            config.tlsConfiguration = tls
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    /// Must be called before the client is released.
    public func shutdown() async throws { try await client.shutdown() }

    /// Sends `request` and decodes its event stream. Errors are always ``ProviderError``s.
    func stream<Decoder: UpstreamStreamDecoder>(
        _ request: UpstreamRequest, provider: ProviderKind, decoder: Decoder
    ) -> AsyncThrowingStream<CompletionEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: CompletionEvent.self)
        let task = Task {
            do {
                try await run(request, provider: provider, decoder: decoder) { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: Self.classify(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func run<Decoder: UpstreamStreamDecoder>(
        _ request: UpstreamRequest, provider: ProviderKind, decoder: Decoder, yield: (CompletionEvent) -> Void
    ) async throws {
        var decoder = decoder
        try await forEachEvent(request, provider: provider, isComplete: { decoder.isComplete }) { event in
            for completionEvent in try decoder.decode(event) { yield(completionEvent) }
        }
        for completionEvent in try decoder.finish() { yield(completionEvent) }
    }

    /// Sends `request` and yields its server-sent events verbatim (name and data as upstream
    /// wrote them), for routes that pass a provider's own stream through. Errors are ``ProviderError``s.
    func events(_ request: UpstreamRequest, provider: ProviderKind) -> AsyncThrowingStream<SSEEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: SSEEvent.self)
        let task = Task {
            do {
                try await forEachEvent(request, provider: provider, isComplete: { false }) { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: Self.classify(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// One JSON exchange with a non-provider service the enclave calls (the x402 facilitator),
    /// through the same client: the same egress proxy, trust roots and pooling, so it obeys the
    /// same allowlist. Returns the status and up to 1 MiB of body; `GET` when `body` is nil.
    /// Errors are ``ProviderError``s (`.timeout` past `timeout`).
    public func exchangeJSON(url: String, body: [UInt8]?, timeout: Duration) async throws(ProviderError) -> (status: Int, body: [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = body == nil ? .GET : .POST
        request.headers.add(name: "accept", value: "application/json")
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(body)
        }
        let (client, prepared) = (self.client, request)
        do {
            // The deadline covers the whole exchange, body included: a service that sends its
            // head and then stalls must not hold the caller past `timeout`.
            return try await withThrowingTaskGroup(of: (status: Int, body: [UInt8]).self) { group in
                group.addTask {
                    let response = try await client.execute(prepared, timeout: TimeAmount(timeout))
                    let bytes = try await response.body.collect(upTo: 1 << 20)
                    return (Int(response.status.code), Array(bytes.readableBytesView))
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw ProviderError.timeout
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw ProviderError.cancelled }
                return first
            }
        } catch {
            throw Self.classify(error)
        }
    }

    /// Sends `request` and returns its JSON object body (a non-streaming call).
    func json(_ request: UpstreamRequest, provider: ProviderKind) async throws(ProviderError) -> JSONObject {
        do {
            let response = try await open(request, provider: provider, accept: "application/json")
            let body = try await response.body.collect(upTo: configuration.maxEventBytes)
            return try JSONObject.upstream(String(decoding: body.readableBytesView, as: UTF8.self), what: "\(provider.name) response")
        } catch {
            throw Self.classify(error)
        }
    }

    private func forEachEvent(
        _ request: UpstreamRequest, provider: ProviderKind, isComplete: () -> Bool, _ handle: (SSEEvent) throws -> Void
    ) async throws {
        let response = try await open(request, provider: provider, accept: "text/event-stream")
        var parser = SSEParser(maxEventBytes: configuration.maxEventBytes)
        reading: for try await buffer in response.body {
            for event in try parser.feed(buffer.readableBytesView) {
                try handle(event)
                if isComplete() { break reading }
            }
        }
        if !isComplete(), let event = parser.finish() { try handle(event) }
    }

    /// Sends the request; a non-2xx answer becomes the matching ``ProviderError``.
    private func open(_ request: UpstreamRequest, provider: ProviderKind, accept: String) async throws -> HTTPClientResponse {
        var httpRequest = HTTPClientRequest(url: request.url)
        httpRequest.method = .POST
        httpRequest.headers.add(name: "content-type", value: "application/json")
        httpRequest.headers.add(name: "accept", value: accept)
        for (name, value) in request.headers { httpRequest.headers.add(name: name, value: value) }
        httpRequest.body = .bytes(request.body)

        let response = try await client.execute(httpRequest, timeout: TimeAmount(configuration.requestDeadline))
        guard (200..<300).contains(response.status.code) else {
            logger.warning("upstream refused the request", metadata: ["provider": "\(provider.name)", "status": "\(response.status.code)"])
            if response.status.code == 429 {
                throw ProviderError.rateLimited(retryAfter: response.headers.first(name: "retry-after"))
            }
            let body = try? await response.body.collect(upTo: 64 << 10)
            throw ProviderError.upstreamStatus(code: Int(response.status.code), message: Self.errorMessage(body, status: response.status.code, reason: response.status.reasonPhrase))
        }
        return response
    }

    /// The provider's own message from an error body (`{"error":{"message"}}` for OpenAI,
    /// Anthropic and Gemini alike), else the status line.
    static func errorMessage(_ body: ByteBuffer?, status: UInt, reason: String) -> String {
        if let body, var value = try? JSONParser().parse(body.readableBytesView) {
            if let first = value.arrayValue?.first { value = first }
            if let message = value["error"]?["message"]?.stringValue ?? value["error"]?.stringValue ?? value["message"]?.stringValue {
                return message
            }
        }
        return "\(status) \(reason)"
    }

    static func classify(_ error: any Error) -> ProviderError {
        switch error {
        case let error as ProviderError: return error
        case let error as SSEParseError: return .malformedUpstream(reason: error.description)
        case is CancellationError: return .cancelled
        case let error as HTTPClientError:
            switch error {
            case .cancelled: return .cancelled
            case .readTimeout, .connectTimeout, .deadlineExceeded, .socksHandshakeTimeout, .httpProxyHandshakeTimeout:
                return .timeout
            case .invalidProxyResponse:
                // The proxy answered CONNECT with something other than 200. The host's egress
                // says why in its log and metrics; only the fact reaches us.
                return .unreachable(
                    reason: "the egress proxy refused to open a tunnel "
                        + "(host-proxy logs the reason, e.g. a host not on its allowlist)"
                )
            default: return Task.isCancelled ? .cancelled : .unreachable(reason: "\(error)")
            }
        default: return Task.isCancelled ? .cancelled : .unreachable(reason: "\(error)")
        }
    }
}
