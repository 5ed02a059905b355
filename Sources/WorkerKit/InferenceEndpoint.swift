import EnclaveIPC
import Foundation
import GatewayCore
import InferenceAPI
import Logging
import Payments
import Providers

/// The signed inference routes: parse, validate, hash the canonical request, run the provider,
/// and have key-service sign (request hash, output hash). The worker never holds a key: it only
/// sends the two hashes, and key-service adds its own timestamp.
struct InferenceEndpoint: Sendable {
    let registry: ModelRegistry
    let providers: ProviderRouter
    let keyService: KeyServiceClient
    /// Provider keys from `keyService`, reused for a second (`ProviderSecretsCache`).
    let secrets: ProviderSecretsCache
    /// Silence after which a stream gets a keep-alive comment (see `WorkerReply.eventStream`).
    let streamKeepAlive: Duration
    let logger: Logger

    /// One signed inference request: `route` is the path's route, `headers` the client's (only
    /// Anthropic's versioning headers are used, on the native path). Callable from any transport
    /// that has the method, path, headers and body (HTTP, an OHTTP-decapsulated request).
    ///
    /// `charge` (x402, when payments are on) prices the answer: its cost is folded into the
    /// signed output hash and sent as `tee_cost` (see `TEECost`).
    func respond(route: InferenceRequest.Route, body: [UInt8], headers: [(String, String)] = [], charge: Charge? = nil) async -> WorkerReply {
        let dialect = route.dialect
        let meter = charge.map { Meter(charge: $0, requestBytes: body.count) }
        let value: JSONValue
        do throws(APIError) {
            value = try Self.parse(body)
        } catch {
            return .json(error, dialect)
        }
        if let modelRoute = nativeRoute(route, value: value) {
            return await respondNatively(value, modelRoute: modelRoute, headers: headers, meter: meter)
        }
        let request: InferenceRequest
        let modelRoute: ModelRoute
        let apiKey: String?
        do throws(APIError) {
            request = try Self.validate(route: route, value: value)
            modelRoute = try lookUp(request.model)
            apiKey = try await self.apiKey(for: modelRoute)
        } catch {
            return .json(error, dialect)
        }

        var providerBody = request.chat.body
        if let meter, request.chat.maxTokens == nil, let cap = meter.charge.outputCap {
            // The quote assumed this many output tokens; the provider must not exceed it.
            providerBody["max_tokens"] = .number(JSONNumber(cap))
        }
        let events = providers.complete(providerBody, route: modelRoute, apiKey: apiKey)
        guard request.stream else { return await complete(request, events: events, meter: meter) }
        switch await StreamStart.wait(for: events) {
        case .started(let events):
            return stream(request, events: events, meter: meter)
        case .failed(let error as ProviderError):
            return .json(.provider(error), request.dialect)
        case .failed(let error):
            return .json(.upstream("the provider stream failed: \(error)"), request.dialect)
        }
    }

    /// `count_tokens` is unsigned. For a Claude model it is Anthropic's own count (the request
    /// as sent, model mapped); for other models the gateway's estimate, marked `"estimate": true`.
    func countTokens(body: [UInt8], headers: [(String, String)] = []) async -> WorkerReply {
        do throws(APIError) {
            let value = try Self.parse(body)
            if let modelRoute = nativeRoute(.messages, value: value) {
                let request: NativeMessagesRequest
                do { request = try NativeMessagesRequest(body: value, countingTokens: true) } catch { throw .invalidRequest(error) }
                let apiKey = try await apiKey(for: modelRoute)
                do {
                    let count = try await providers.anthropicNative.countTokens(
                        request.body, route: modelRoute, apiKey: apiKey, clientHeaders: headers)
                    return .json(status: 200, body: JSONWriter.serialize(.object(count), style: .compact))
                } catch {
                    throw .provider(error)
                }
            }
            do {
                return .json(status: 200, body: TokenEstimate.body(try AnthropicRequest(body: value, countingTokens: true)))
            } catch {
                throw .invalidRequest(error)
            }
        } catch {
            return .json(error, .anthropic)
        }
    }

    /// The model's route when this request goes to Anthropic as sent (the routing rule is
    /// `Route.passesThrough`); nil sends it down the validating, translating path, which also
    /// produces every error for bodies that are not JSON or name no known model.
    private func nativeRoute(_ route: InferenceRequest.Route, value: JSONValue) -> ModelRoute? {
        guard route == .messages, let model = value["model"]?.stringValue, let modelRoute = try? registry.route(for: model),
            route.passesThrough(toAnthropic: modelRoute.provider == .anthropic)
        else { return nil }
        return modelRoute
    }

    private func lookUp(_ model: String) throws(APIError) -> ModelRoute {
        do {
            return try registry.route(for: model)
        } catch {
            if error.retiredInFavourOf != nil { throw .invalidRequest(InvalidRequest(error.description, param: "model")) }
            throw .unknownModel(model, available: error.supported)
        }
    }

    // MARK: Native Anthropic

    private func respondNatively(_ value: JSONValue, modelRoute: ModelRoute, headers: [(String, String)], meter: Meter?) async -> WorkerReply {
        let request: NativeMessagesRequest
        let reply: AnthropicNative.Reply
        do throws(APIError) {
            do { request = try NativeMessagesRequest(body: value) } catch { throw .invalidRequest(error) }
            let apiKey = try await apiKey(for: modelRoute)
            do {
                reply = try await providers.anthropicNative.messages(request.body, route: modelRoute, apiKey: apiKey, clientHeaders: headers)
            } catch {
                throw .provider(error)
            }
        } catch {
            return .json(error, .anthropic)
        }
        switch reply {
        case .message(let message):
            do throws(APIError) {
                let usage = message["usage"].flatMap(AnthropicUsage.read)
                let signature = try await sign(
                    requestHash: request.canonical.hash, outputHash: NativeMessagesResponse.outputHash(message), meter: meter,
                    usage: usage, answerBytes: JSONWriter.serialize(message["content"] ?? .null, style: .compact).count)
                return .json(status: 200, body: NativeMessagesResponse.body(message, signature: signature))
            } catch {
                return .json(error, .anthropic)
            }
        case .events(let events):
            switch await StreamStart.wait(for: events) {
            case .started(let events): return relayStream(request, events: events, meter: meter)
            case .failed(let error as ProviderError): return .json(.provider(error), .anthropic)
            case .failed(let error): return .json(.upstream("the provider stream failed: \(error)"), .anthropic)
            }
        }
    }

    /// Anthropic's events as they come; the signature goes on the held `message_delta` once
    /// `message_stop` arrived. A stream that ends early, or an upstream `error` event, ends
    /// with an error frame and no signature.
    private func relayStream(_ request: NativeMessagesRequest, events: AsyncThrowingStream<SSEEvent, any Error>, meter: Meter?) -> WorkerReply {
        .eventStream(keepAlive: streamKeepAlive) { send in
            var relay = NativeMessagesStream()
            var answerBytes = 0
            var usage = AnthropicUsage()
            do {
                for try await event in events {
                    answerBytes += event.data.utf8.count
                    if meter != nil { usage.fold(name: event.name, data: event.data) }
                    let frames = try relay.relay(name: event.name, data: event.data)
                    if !frames.isEmpty { try send(frames) }
                    if relay.upstreamFailed { return }
                    if relay.isComplete { break }
                }
                guard relay.isComplete else {
                    throw APIError.upstream("Anthropic's stream ended before message_stop (upstream disconnected mid-answer)")
                }
                // Without both counts, the estimate from the relayed bytes applies (it
                // overcounts; it never charges zero).
                let signature = try await sign(
                    requestHash: request.canonical.hash, outputHash: relay.assembler.outputHash, meter: meter, usage: usage.complete,
                    answerBytes: answerBytes)
                try send(relay.finish(signature))
                return
            } catch {
                guard let failure = streamFailure(error) else { return }
                try? send(relay.fail(failure))
            }
        }
    }

    /// How a stream that threw ends: nil when nothing more is sent (the client left, so the
    /// provider call was cancelled with it), else the error for the dialect's error frame.
    private func streamFailure(_ error: any Error) -> APIError? {
        switch error {
        case is ClientDisconnected:
            logger.debug("client disconnected; generation cancelled")
            return nil
        case let error as ProviderError:
            return error == .cancelled ? nil : .provider(error)
        case let error as APIError:
            return error
        default:
            return .upstream("the provider stream failed: \(error)")
        }
    }

    static func parse(_ body: [UInt8]) throws(APIError) -> JSONValue {
        do {
            return try JSONParser().parse(body)
        } catch {
            throw .malformedJSON(error)
        }
    }

    static func validate(route: InferenceRequest.Route, value: JSONValue) throws(APIError) -> InferenceRequest {
        do {
            return try InferenceRequest(route: route, body: value)
        } catch {
            throw .invalidRequest(error)
        }
    }

    /// The provider key from key-service (through `secrets`: a new key takes effect at once, a
    /// replaced one within a second). A model that needs a key nobody injected is a 503 before
    /// any streaming.
    private func apiKey(for route: ModelRoute) async throws(APIError) -> String? {
        guard let keyName = route.keyName else { return nil }
        let found: String?
        do {
            found = try await secrets.key(named: keyName)
        } catch {
            logger.error("provider secrets unavailable", metadata: ["error": "\(error)"])
            throw .unavailable("the key service is unavailable; retry shortly", retryAfterSeconds: 1)
        }
        guard let key = found else {
            throw .unavailable(ProviderError.missingCredentials(provider: route.provider.name).description)
        }
        return key
    }

    private func sign(_ request: InferenceRequest, _ answer: CompletionAccumulator, meter: Meter?) async throws(APIError) -> TEESignature {
        let answerBytes = answer.text.utf8.count + answer.toolCalls.reduce(0) { $0 + $1.name.utf8.count + $1.arguments.utf8.count }
        return try await sign(requestHash: request.canonical.hash, outputHash: answer.outputHash, meter: meter, usage: answer.usage, answerBytes: answerBytes)
    }

    /// Signs (request hash, output hash). A paid answer's cost is priced first and folded into
    /// the output hash, and recorded only once the signature exists: an answer that could not be
    /// signed is not charged, and no signed answer leaves uncharged.
    private func sign(
        requestHash: Keccak256Digest, outputHash: Keccak256Digest, meter: Meter? = nil, usage: TokenUsage? = nil, answerBytes: Int = 0
    ) async throws(APIError) -> TEESignature {
        let cost = meter?.charge.cost(usage: usage, requestBytes: meter?.requestBytes ?? 0, answerBytes: answerBytes)
        var signature: TEESignature
        do {
            signature = try await keyService.signInference(requestHash: requestHash, outputHash: cost?.bind(answerHash: outputHash) ?? outputHash)
        } catch {
            logger.error("signing failed", metadata: ["error": "\(error)"])
            throw .unavailable("the response could not be signed; retry shortly", retryAfterSeconds: 1)
        }
        if let cost, let meter {
            do {
                try meter.charge.commit(cost)
            } catch {
                logger.error("x402 charge not recorded; answer withheld", metadata: ["error": "\(error)"])
                throw .unavailable("the charge could not be recorded; retry shortly", retryAfterSeconds: 1)
            }
            signature.cost = cost
        }
        return signature
    }

    private func complete(_ request: InferenceRequest, events: AsyncThrowingStream<CompletionEvent, any Error>, meter: Meter?) async -> WorkerReply {
        var answer = CompletionAccumulator()
        do throws(APIError) {
            do {
                for try await event in events { answer.add(event) }
            } catch let error as ProviderError {
                throw .provider(error)
            } catch {
                throw .upstream("the provider stream failed: \(error)")
            }
            let signature = try await sign(request, answer, meter: meter)
            return .json(status: 200, body: request.responseBody(answer, id: ResponseID.make(for: request.route), signature: signature))
        } catch {
            return .json(error, request.dialect)
        }
    }

    /// Each event is rendered and written as it arrives. A failed write (client gone) ends the
    /// loop, which drops the provider stream and so cancels generation. A provider or signing
    /// failure ends the stream with the dialect's error frame and no signature.
    private func stream(_ request: InferenceRequest, events: AsyncThrowingStream<CompletionEvent, any Error>, meter: Meter?) -> WorkerReply {
        .eventStream(keepAlive: streamKeepAlive) { send in
            var renderer = request.streamRenderer(id: ResponseID.make(for: request.route), created: UInt64(Date().timeIntervalSince1970))
            do {
                for try await event in events {
                    let frames = try renderer.render(event)
                    if !frames.isEmpty { try send(frames) }
                }
                let signature = try await sign(request, renderer.accumulator, meter: meter)
                try send(renderer.finish(signature))
                return
            } catch {
                guard let failure = streamFailure(error) else { return }
                try? send(renderer.fail(failure))
            }
        }
    }
}

/// Anthropic's token counts: `usage` of a message, or, in a stream, `message_start`'s
/// `message.usage.input_tokens` and the last `message_delta`'s `usage.output_tokens`.
struct AnthropicUsage {
    var input: Int?
    var output: Int?

    var complete: TokenUsage? { input.flatMap { input in output.map { TokenUsage(promptTokens: input, completionTokens: $0) } } }

    static func read(_ usage: JSONValue) -> TokenUsage? {
        var counts = AnthropicUsage()
        counts.input = usage["input_tokens"]?.numberValue?.intValue
        counts.output = usage["output_tokens"]?.numberValue?.intValue
        return counts.complete
    }

    mutating func fold(name: String?, data: String) {
        guard name == "message_start" || name == "message_delta", let value = try? JSONParser().parse(Array(data.utf8)) else { return }
        if let input = value["message"]?["usage"]?["input_tokens"]?.numberValue?.intValue { self.input = input }
        if let output = value["usage"]?["output_tokens"]?.numberValue?.intValue { self.output = output }
    }
}

/// A paid request's charge and the size of the request it prices (for the usage estimate).
struct Meter: Sendable {
    let charge: Charge
    let requestBytes: Int
}

/// Waits for a provider stream's first event before the worker commits to `200
/// text/event-stream`, so a provider that refuses up front (429 with `retry-after`, 5xx, a
/// timeout before any token) gets its own status and headers instead of a 200 with an error frame.
enum StreamStart {
    enum Outcome<Element: Sendable>: Sendable {
        /// The same events, the first one included; dropping this stream cancels the provider.
        case started(AsyncThrowingStream<Element, any Error>)
        /// The provider failed before producing an event.
        case failed(any Error)
    }

    static func wait<Element: Sendable>(for events: AsyncThrowingStream<Element, any Error>) async -> Outcome<Element> {
        let (relayed, relay) = AsyncThrowingStream.makeStream(of: Element.self)
        return await withCheckedContinuation { (started: CheckedContinuation<Outcome<Element>, Never>) in
            let task = Task {
                var pending: CheckedContinuation<Outcome<Element>, Never>? = started
                do {
                    for try await event in events {
                        relay.yield(event)
                        pending?.resume(returning: .started(relayed))
                        pending = nil
                    }
                    relay.finish()
                    pending?.resume(returning: .started(relayed))
                } catch {
                    if let pending {
                        pending.resume(returning: .failed(error))
                    } else {
                        relay.finish(throwing: error)
                    }
                }
            }
            relay.onTermination = { _ in task.cancel() }
        }
    }
}

extension WorkerReply {
    static func json(_ error: APIError, _ dialect: APIDialect) -> WorkerReply {
        .json(status: error.status, body: error.body(dialect), retryAfterSeconds: error.retryAfterSeconds)
    }
}
